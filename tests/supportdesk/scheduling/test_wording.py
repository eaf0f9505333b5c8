"""Dates, times and opening hours rendered from the domain's responses, word for word."""

import datetime as dt

import pytest

from supportdesk.platform.responses import ResponseRenderer
from supportdesk.scheduling.appointment_time import parse_appointment_time
from supportdesk.scheduling.business_hours import parse_business_hours
from supportdesk.scheduling.wording import (
    MONTH_RESPONSES,
    WEEKDAY_RESPONSES,
    date_text,
    date_time_text,
    opening_hours_text,
    weekday_name,
)

WEEKDAYS_AND_SATURDAY = "mon-fri 09:00-18:00; sat 09:00-13:00"
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)  # a Wednesday


@pytest.mark.parametrize(
    "text, words",
    [
        ("tomorrow at 3", "Thursday 26 November at 15:00"),
        ("2026-12-01 10:00", "Tuesday 1 December at 10:00"),
        ("in 10 minutes", "Wednesday 25 November at 10:10"),
        ("12/01 at 10", "Tuesday 12 January at 10:00"),
    ],
)
def test_an_appointment_time_in_words(text: str, words: str) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    assert date_time_text(parse_appointment_time(text, NOW, hours).when) == words


@pytest.mark.parametrize("text, words", [("tomorrow", "Thursday 26 November"), ("sunday", "Sunday 29 November")])
def test_a_day_without_a_time_in_words(text: str, words: str) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    assert date_text(parse_appointment_time(text, NOW, hours).when.date()) == words


@pytest.mark.parametrize(
    "spec, words",
    [
        ("mon-fri 09:00-18:00", "Monday–Friday 09:00–18:00"),
        (WEEKDAYS_AND_SATURDAY, "Monday–Friday 09:00–18:00, Saturday 09:00–13:00"),
        ("mon-fri 09:00-12:00,13:00-18:00; sat 09:00-13:00",
         "Monday–Friday 09:00–12:00 & 13:00–18:00, Saturday 09:00–13:00"),
        ("mon,wed 10:00-16:00; fri 10:00-12:00", "Monday 10:00–16:00, Wednesday 10:00–16:00, Friday 10:00–12:00"),
        ("fri-mon 10:00-14:00", "Monday 10:00–14:00, Friday–Sunday 10:00–14:00"),
        ("mon-sun 00:00-24:00", "Monday–Sunday 00:00–24:00"),
    ],
)
def test_opening_hours_in_words(spec: str, words: str) -> None:
    assert opening_hours_text(parse_business_hours(spec, "UTC")) == words


def test_every_weekday_and_month_has_its_name() -> None:
    assert [weekday_name(index) for index in range(7)] == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
    ]
    assert len(MONTH_RESPONSES) == 12 and len(set(MONTH_RESPONSES)) == 12 and len(set(WEEKDAY_RESPONSES)) == 7


def test_a_language_is_a_set_of_variations_in_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variation conditioned on a slot is chosen by the conversation's slots: no code change per language."""
    def with_portuguese(english: str, portuguese: str) -> list:
        condition = [{"type": "slot", "name": "language", "value": "pt-BR"}]
        return [{"text": english}, {"condition": condition, "text": portuguese}]

    renderer = ResponseRenderer({
        "utter_scheduling_date_time": with_portuguese(
            "{weekday} {day} {month} at {time}", "{weekday}, {day} de {month} às {time}"
        ),
        "utter_scheduling_thursday": with_portuguese("Thursday", "quinta-feira"),
        "utter_scheduling_november": with_portuguese("November", "novembro"),
    })
    monkeypatch.setattr("supportdesk.scheduling.wording.get_responses", lambda: renderer)
    moment = dt.datetime(2026, 11, 26, 15, 0)
    assert date_time_text(moment, {"language": "pt-BR"}) == "quinta-feira, 26 de novembro às 15:00"
    assert date_time_text(moment, {"language": "en"}) == "Thursday 26 November at 15:00"


def test_dates_and_opening_hours_in_portuguese() -> None:
    """The domain's pt-BR variations, chosen by the conversation's `language` slot."""
    portuguese = {"language": "pt-BR"}
    assert date_time_text(dt.datetime(2026, 11, 26, 15, 0), portuguese) == "quinta-feira, 26 de novembro às 15:00"
    assert date_text(dt.date(2026, 11, 29), portuguese) == "domingo, 29 de novembro"
    assert opening_hours_text(parse_business_hours("mon-fri 09:00-12:00,13:00-18:00; sat 09:00-13:00", "UTC"), portuguese) == (
        "de segunda-feira a sexta-feira das 09:00 às 12:00 & das 13:00 às 18:00, sábado das 09:00 às 13:00"
    )
    assert [weekday_name(index, portuguese) for index in range(7)] == [
        "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"
    ]
