"""The form's validator run whole, as Rasa calls it: what each answer fills, at every step, and what is said."""

import datetime as dt
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.scheduling import ActionAskAppointmentService, ActionAskAppointmentTime, ValidateAppointmentForm
from supportdesk.platform.settings import Settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling.appointments import create_request
from tests.actions.said import said

CUSTOMER = "447700900123"
MONDAY_10_UTC = dt.datetime(2024, 5, 13, 10, 0, tzinfo=dt.timezone.utc).timestamp()
TUESDAY_15 = dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()
SETTINGS = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00; sat 09:00-13:00")
REQUIRED = ["appointment_time", "appointment_service", "appointment_confirmed"]
DOMAIN = {"forms": {"appointment_form": {"required_slots": REQUIRED}}, "slots": {}}
BOOKED = {"appointment_time": "Tuesday 14 May at 15:00", "appointment_time_display": "Tuesday 14 May at 15:00",
          "appointment_starts_at": TUESDAY_15, "appointment_service": "Haircut"}
CLEARED = [SlotSet("appointment_time", None), SlotSet("appointment_time_display", None),
           SlotSet("appointment_starts_at", None)]


def answer(text: str, intent: str, requested: Optional[str], slots: Optional[Dict[str, Any]] = None,
           language: str = "en", candidates: Optional[Dict[str, Any]] = None) -> Tracker:
    """The tracker the form hands its validator for the customer's `text` (plus any mapped candidates)."""
    events: List[Dict[str, Any]] = [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
        {"event": "action", "name": "appointment_form"},
        *({"event": "slot", "name": name, "value": value} for name, value in (candidates or {}).items()),
    ]
    return Tracker(
        CUSTOMER,
        {"language": language, "requested_slot": requested, **(slots or {}), **(candidates or {})},
        {"intent": {"name": intent, "confidence": 0.9}, "text": text},
        events, False, None, {"name": "appointment_form"}, "appointment_form",
    )


async def run(tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = await ValidateAppointmentForm(SETTINGS, clock=lambda: MONDAY_10_UTC).run(dispatcher, tracker, DOMAIN)
    return events, dispatcher


# ---------------------------------------------------------------- the service


@pytest.mark.parametrize(
    "text, intent, language, service",
    [("cut and blow dry", "ask_question", "en", "Haircut"), ("Haircut", "schedule_appointment", "en", "Haircut"),
     ("corte", "inform", "pt-BR", "Corte"), ("COLORAÇÃO", "greet", "pt-BR", "Coloração"),
     ("i'd like highlights please", "schedule_appointment", "en", "Highlights & balayage"),
     ("Children's cut", "schedule_appointment", "en", "Children's cut")],
)
async def test_the_service_is_matched_to_the_list_whatever_the_nlu_said(text, intent, language, service):
    events, dispatcher = await run(answer(text, intent, "appointment_service", language=language))
    assert events == [SlotSet("appointment_service", service)]
    assert dispatcher.messages == []


async def test_an_unknown_service_is_reasked_with_the_list():
    events, dispatcher = await run(answer("something for my cat", "schedule_appointment", "appointment_service"))
    assert events == [SlotSet("appointment_service", None)]
    assert said(dispatcher) == [("utter_appointment_service_unknown",
                                 "Sorry, I couldn't match that to one of our services 🙏")]
    ask = CollectingDispatcher()
    assert await ActionAskAppointmentService().run(ask, answer("", "x", "appointment_service"), {}) == []
    [question] = ask.messages
    assert question["response"] == "utter_ask_appointment_service"
    assert [button["title"] for button in question["buttons"]] == [
        "Haircut", "Children's cut", "Blow-dry", "Colour", "Highlights & balayage", "Keratin smoothing", "Bridal hair",
        "Brows & lashes", "Manicure & pedicure", "Facial",
    ]
    assert all(button["payload"] == button["title"] for button in question["buttons"])


async def test_the_list_is_titled_in_the_conversation_language():
    ask = CollectingDispatcher()
    await ActionAskAppointmentService().run(ask, answer("", "x", "appointment_service", language="pt-BR"), {})
    assert [button["title"] for button in ask.messages[0]["buttons"]][:4] == ["Corte", "Corte infantil", "Escova",
                                                                              "Coloração"]


@pytest.mark.parametrize("text, intent", [("how much is colour?", "ask_question"), ("cancel", "cancel_appointment"),
                                          ("I want a person", "request_human")])
async def test_a_question_or_a_digression_leaves_the_form_to_its_rule(text, intent):
    events, dispatcher = await run(answer(text, intent, "appointment_service"))
    assert events == [] and dispatcher.messages == []


async def test_a_time_at_the_service_question_corrects_the_time_and_is_never_the_service():
    events, dispatcher = await run(answer("actually wednesday at 4pm", "schedule_appointment", "appointment_service",
                                          BOOKED))
    assert events == [SlotSet("appointment_time", "Wednesday 15 May at 16:00"),
                      SlotSet("appointment_time_display", "Wednesday 15 May at 16:00"),
                      SlotSet("appointment_starts_at", dt.datetime(2024, 5, 15, 16, tzinfo=dt.timezone.utc).timestamp())]
    assert dispatcher.messages == []


# ---------------------------------------------------------------- the time


async def test_a_vague_time_asks_for_the_hour_offering_the_free_ones():
    database = get_runtime().database
    create_request(database, CUSTOMER, dt.datetime(2024, 5, 20, 10, tzinfo=dt.timezone.utc).timestamp(), "x", None, None)
    events, dispatcher = await run(answer("next monday morning", "schedule_appointment", "appointment_time",
                                          candidates={"appointment_time": "next monday morning"}))
    assert events == CLEARED
    [message] = dispatcher.messages
    assert message["response"] == "utter_appointment_time_needs_hour"
    assert message["appointment_day"] == "Monday 20 May"
    assert message["buttons"] == [{"title": "09:00", "payload": "09:00"}, {"title": "11:00", "payload": "11:00"}]
    ask = CollectingDispatcher()
    said_so = answer("", "x", "appointment_time")
    said_so.events.append({"event": "bot", "metadata": {"utter_action": "utter_appointment_time_needs_hour"}})
    await ActionAskAppointmentTime().run(ask, said_so, {})
    assert ask.messages == []  # the re-ask already asked: no second question after the free hours


async def test_without_the_database_the_hour_is_still_asked_without_choices(monkeypatch):
    async def broken(*args):
        raise ConnectionError("database down")

    monkeypatch.setattr(get_runtime().database, "run", broken)
    events, dispatcher = await run(answer("friday", "schedule_appointment", "appointment_time",
                                          candidates={"appointment_time": "friday"}))
    assert events == CLEARED
    assert [(message["response"], message["buttons"]) for message in dispatcher.messages] == [
        ("utter_appointment_time_needs_hour", [])
    ]


async def test_the_hour_answering_that_question_fills_the_time_not_the_service():
    tracker = answer("16h", "schedule_appointment", "appointment_time", language="pt-BR",
                     candidates={"appointment_time": "16h"})
    tracker.events[:0] = [  # "amanhã à tarde" → "Que horas?" (with the free hours) → "16h"
        {"event": "user", "text": "amanhã à tarde"},
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_appointment_time_needs_hour"}},
    ]
    events, dispatcher = await run(tracker)
    display = "terça-feira, 14 de maio às 16:00"
    assert events == [SlotSet("appointment_time", display), SlotSet("appointment_time_display", display),
                      SlotSet("appointment_starts_at", dt.datetime(2024, 5, 14, 16, tzinfo=dt.timezone.utc).timestamp())]
    assert dispatcher.messages == []


async def test_a_closed_day_in_the_opening_message_is_refused_with_the_reason():
    events, dispatcher = await run(answer("can I come sunday 3pm", "schedule_appointment", None))
    assert events == CLEARED
    assert said(dispatcher) == [(
        "utter_appointment_time_closed",
        "We're closed at that time 🙏 Our hours are Monday–Friday 09:00–18:00, Saturday 09:00–13:00. "
        "What other day or time works for you?",
    )]


async def test_a_time_and_a_service_in_the_opening_message_are_both_kept():
    events, dispatcher = await run(answer("can I book a haircut tmrw 3pm", "schedule_appointment", None))
    assert events == [SlotSet("appointment_time", "Tuesday 14 May at 15:00"),
                      SlotSet("appointment_service", "Haircut"),
                      SlotSet("appointment_time_display", "Tuesday 14 May at 15:00"),
                      SlotSet("appointment_starts_at", TUESDAY_15)]
    assert dispatcher.messages == []


async def test_a_service_at_the_time_question_is_taken_and_the_time_asked_again_without_a_reproach():
    events, dispatcher = await run(answer("a haircut", "schedule_appointment", "appointment_time",
                                          candidates={"appointment_time": "a haircut"}))
    assert events == [SlotSet("appointment_time", None), SlotSet("appointment_service", "Haircut"),
                      SlotSet("appointment_time_display", None), SlotSet("appointment_starts_at", None)]
    assert dispatcher.messages == []
    ask = CollectingDispatcher()
    await ActionAskAppointmentTime().run(ask, answer("", "x", "appointment_time"), {})
    assert [message["response"] for message in ask.messages] == ["utter_ask_appointment_time"]


# ---------------------------------------------------------------- the confirmation


@pytest.mark.parametrize(
    "text, language, confirmed",
    [("sim", "pt-BR", True), ("pode ser", "pt-BR", True), ("isso", "pt-BR", True), ("ok", "pt-BR", True),
     ("bora", "pt-BR", True), ("yes", "en", True), ("yep", "en", True), ("Sure!", "en", True), ("yes please", "en", True),
     ("não", "pt-BR", False), ("nao", "pt-BR", False), ("no", "en", False), ("nope", "en", False)],
)
async def test_yes_and_no_words_answer_the_confirmation_whatever_the_nlu_said(text, language, confirmed):
    events, dispatcher = await run(answer(text, "goodbye", "appointment_confirmed", BOOKED, language))
    assert events == [SlotSet("appointment_confirmed", confirmed)]
    assert dispatcher.messages == []


@pytest.mark.parametrize("payload, intent, confirmed", [("/affirm", "affirm", True), ("/deny", "deny", False)])
async def test_the_buttons_and_their_typed_numbers_answer_the_confirmation(payload, intent, confirmed):
    events, _ = await run(answer(payload, intent, "appointment_confirmed", BOOKED))
    assert events == [SlotSet("appointment_confirmed", confirmed)]


@pytest.mark.parametrize("text, intent", [("colour", "affirm"), ("maybe", "affirm"), ("tchau", "goodbye")])
async def test_anything_else_at_the_confirmation_is_asked_again(text, intent):
    events, dispatcher = await run(answer(text, intent, "appointment_confirmed", BOOKED))
    assert events == [SlotSet("appointment_confirmed", None)]
    assert [name for name, _ in said(dispatcher)] == ["utter_appointment_confirmation_unclear"]


@pytest.mark.parametrize(
    "text, language, display, starts_at",
    [("actually tuesday at 4pm", "en", "Tuesday 14 May at 16:00", dt.datetime(2024, 5, 14, 16)),
     ("na verdade quarta às 16h", "pt-BR", "quarta-feira, 15 de maio às 16:00", dt.datetime(2024, 5, 15, 16)),
     ("actually make it 11am", "en", "Tuesday 14 May at 11:00", dt.datetime(2024, 5, 14, 11))],
)
async def test_a_time_correction_at_the_confirmation_changes_the_time(text, language, display, starts_at):
    events, dispatcher = await run(answer(text, "schedule_appointment", "appointment_confirmed", BOOKED, language))
    assert events == [SlotSet("appointment_time", display), SlotSet("appointment_time_display", display),
                      SlotSet("appointment_starts_at", starts_at.replace(tzinfo=dt.timezone.utc).timestamp())]
    assert dispatcher.messages == []


async def test_a_service_correction_at_the_confirmation_changes_the_service():
    events, dispatcher = await run(answer("actually colour instead", "schedule_appointment", "appointment_confirmed",
                                          BOOKED))
    assert events == [SlotSet("appointment_service", "Colour")]
    assert dispatcher.messages == []


async def test_a_correction_to_a_closed_time_says_why_and_asks_for_the_time_again():
    events, dispatcher = await run(answer("actually sunday at 10", "schedule_appointment", "appointment_confirmed",
                                          BOOKED))
    assert events == CLEARED
    assert [name for name, _ in said(dispatcher)] == ["utter_appointment_time_closed"]


async def test_a_resumed_form_reads_nothing_again():
    tracker = answer("pode ser", "goodbye", "appointment_confirmed", BOOKED, "pt-BR")
    tracker.events.insert(1, {"event": "action", "name": "action_ai_answer"})
    events, dispatcher = await run(tracker)
    assert events == [] and dispatcher.messages == []
