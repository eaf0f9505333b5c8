"""`action_tell_hours`: "when are you open?" answered from BUSINESS_HOURS in the customer's language, no OpenAI."""

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.hours import ActionTellHours
from supportdesk.platform.settings import Settings
from tests.actions.said import said

SETTINGS = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00; sat 09:00-13:00")
EN_HOURS = "Our opening hours: Monday–Friday 09:00–18:00, Saturday 09:00–13:00 🕘 "
PT_HOURS = "Nosso horário de funcionamento: de segunda-feira a sexta-feira das 09:00 às 18:00, sábado das 09:00 às 13:00 🕘 "


def at(*parts: int) -> float:
    return dt.datetime(*parts, tzinfo=dt.timezone.utc).timestamp()


def tracker(language: str) -> Tracker:
    return Tracker("447700900123", {"language": language}, {"intent": {"name": "ask_hours"}, "text": "when are you open?"},
                   [], False, None, {}, "action_listen")


@pytest.mark.parametrize(
    "now, language, response, text",
    [
        (at(2024, 5, 13, 10, 0), "en", "utter_hours_open_now", EN_HOURS + "We're open right now, until 18:00."),
        (at(2024, 5, 11, 12, 30), "en", "utter_hours_open_now", EN_HOURS + "We're open right now, until 13:00."),
        (at(2024, 5, 13, 7, 0), "en", "utter_hours_closed_until_today",
         EN_HOURS + "We're closed right now and open again today at 09:00."),
        (at(2024, 5, 10, 19, 0), "en", "utter_hours_closed_until_tomorrow",
         EN_HOURS + "We're closed right now and open again tomorrow at 09:00."),
        (at(2024, 5, 11, 14, 0), "en", "utter_hours_closed_until_day",
         EN_HOURS + "We're closed right now and open again on Monday at 09:00."),
        (at(2024, 5, 13, 10, 0), "pt-BR", "utter_hours_open_now",
         PT_HOURS + "Estamos abertos agora, até as 18:00."),
        (at(2024, 5, 11, 14, 0), "pt-BR", "utter_hours_closed_until_day",
         PT_HOURS + "Agora estamos fechados e abrimos de novo segunda-feira às 09:00."),
    ],
)
async def test_the_hours_come_from_the_setting_in_the_customers_language(now, language, response, text):
    dispatcher = CollectingDispatcher()
    events = await ActionTellHours(SETTINGS, clock=lambda: now).run(dispatcher, tracker(language), {})
    assert events == []
    assert said(dispatcher, {"language": language}) == [(response, text)]


async def test_a_change_of_setting_changes_the_answer():
    dispatcher = CollectingDispatcher()
    settings = Settings(business_timezone="UTC", business_hours="tue,thu 10:00-16:00")
    await ActionTellHours(settings, clock=lambda: at(2024, 5, 13, 10, 0)).run(dispatcher, tracker("en"), {})
    assert said(dispatcher) == [(
        "utter_hours_closed_until_tomorrow",
        "Our opening hours: Tuesday 10:00–16:00, Thursday 10:00–16:00 🕘 "
        "We're closed right now and open again tomorrow at 10:00.",
    )]
