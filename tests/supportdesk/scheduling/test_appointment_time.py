"""Appointment times from customer text: phrasings × zones, every outcome, DST edges; fixed clock only."""

import dataclasses
import datetime as dt
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from supportdesk.scheduling.appointment_time import TimeOutcome, TimeParse, parse_appointment_time
from supportdesk.scheduling.business_hours import parse_business_hours

WEEKDAYS_AND_SATURDAY = "mon-fri 09:00-18:00; sat 09:00-13:00"
EVERY_DAY = "mon-sun 09:00-18:00"
ZONES = ["America/Sao_Paulo", "Europe/Lisbon", "Asia/Tokyo", "UTC"]
NOW = dt.datetime(2026, 11, 25, 10, 0)  # a Wednesday, as wall time in each business zone
OK, NEEDS_TIME, INVALID = TimeOutcome.OK, TimeOutcome.NEEDS_TIME, TimeOutcome.INVALID
PAST, TOO_SOON, CLOSED, TOO_FAR = TimeOutcome.PAST, TimeOutcome.TOO_SOON, TimeOutcome.CLOSED, TimeOutcome.TOO_FAR


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute)


PHRASINGS = [
    ("tomorrow at 3", OK, at(11, 26, 15)),
    ("tomorrow at 3pm", OK, at(11, 26, 15)),
    ("Tomorrow at 3 PM", OK, at(11, 26, 15)),
    ("can i come tomorrow at 3 pls", OK, at(11, 26, 15)),
    ("tmrw 3pm", OK, at(11, 26, 15)),
    ("tomorrow 3", OK, at(11, 26, 15)),
    ("tomorrow 15:00", OK, at(11, 26, 15)),
    ("next monday morning", NEEDS_TIME, at(11, 30)),
    ("thursday 2pm", OK, at(11, 26, 14)),
    ("thursday 10", OK, at(11, 26, 10)),
    ("next friday at 10:30", OK, at(11, 27, 10, 30)),
    ("next thursday at noon", OK, at(11, 26, 12)),
    ("26/11 at 10", OK, at(11, 26, 10)),
    ("nov 26 10am", OK, at(11, 26, 10)),
    ("12/01 at 10", OK, at(1, 12, 10, year=2027)),
    ("2026-12-01 10:00", OK, at(12, 1, 10)),
    ("the 12th at 11am", OK, at(12, 12, 11)),
    ("on the 3rd at 2pm", OK, at(12, 3, 14)),
    ("in 3 days at 10am", OK, at(11, 28, 10)),
    ("in 2 hours", OK, at(11, 25, 12)),
    ("in half an hour", OK, at(11, 25, 10, 30)),
    ("tomorrow afternoon", NEEDS_TIME, at(11, 26)),
    ("tomorrow morning", NEEDS_TIME, at(11, 26)),
    ("this afternoon", NEEDS_TIME, at(11, 25)),
    ("3 in the afternoon", OK, at(11, 25, 15)),
    ("at 3", OK, at(11, 25, 15)),
    ("3pm", OK, at(11, 25, 15)),
    ("at 9", OK, at(11, 26, 9)),
    ("10:30", OK, at(11, 25, 10, 30)),
    ("at 4.30pm", OK, at(11, 25, 16, 30)),
    ("hi! could i come in on friday around 4?", OK, at(11, 27, 16)),
    ("dia 11 às 14h", OK, at(12, 11, 14)),
    ("amanhã às 15h", OK, at(11, 26, 15)),
    ("amanha 15", OK, at(11, 26, 15)),
    ("segunda às 10", OK, at(11, 30, 10)),
    ("sexta-feira às 9h", OK, at(11, 27, 9)),
    ("quinta que vem às 16h", OK, at(11, 26, 16)),
    ("próxima segunda feira às 14h30", OK, at(11, 30, 14, 30)),
    ("pode ser sexta às 10 horas?", OK, at(11, 27, 10)),
    ("depois de amanhã às 10", OK, at(11, 27, 10)),
    ("amanhã de manhã", NEEDS_TIME, at(11, 26)),
    ("amanhã à tarde", NEEDS_TIME, at(11, 26)),
    ("hoje às 17h", OK, at(11, 25, 17)),
    ("26.11 às 10.30", OK, at(11, 26, 10, 30)),
    ("oi, queria marcar pra amanhã 10h", OK, at(11, 26, 10)),
    ("bom dia, amanhã às 9 da manhã", OK, at(11, 26, 9)),
    ("às 2h", OK, at(11, 25, 14)),
    ("em meia hora", OK, at(11, 25, 10, 30)),
    ("daqui a 2 horas", OK, at(11, 25, 12)),
    ("daqui a duas horas", OK, at(11, 25, 12)),
    ("within 2 hours", OK, at(11, 25, 12)),
    ("sábado ao meio-dia", OK, at(11, 28, 12)),
    ("dia 12 às 14h", CLOSED, at(12, 12, 14)),
    ("sat 3pm", CLOSED, at(11, 28, 15)),
    ("sunday at 10", CLOSED, at(11, 29, 10)),
    ("sunday at 3", CLOSED, at(11, 29, 15)),
    ("sat at 2:30", CLOSED, at(11, 28, 14, 30)),
    ("at 8", CLOSED, at(11, 26, 8)),
    ("at 03:00", CLOSED, at(11, 26, 3)),
    ("tonight", CLOSED, at(11, 25, 18)),
    ("tomorrow evening", CLOSED, at(11, 26, 18)),
    ("8 da noite", CLOSED, at(11, 25, 20)),
    ("yesterday at 3pm", PAST, at(11, 24, 15)),
    ("today at 9am", PAST, at(11, 25, 9)),
    ("in 10 minutes", TOO_SOON, at(11, 25, 10, 10)),
    ("today at 10:20", TOO_SOON, at(11, 25, 10, 20)),
    ("june 10 at 10", TOO_FAR, at(6, 10, 10, year=2027)),
    ("tomorrow", NEEDS_TIME, at(11, 26)),
    ("next monday", NEEDS_TIME, at(11, 30)),
    ("friday", NEEDS_TIME, at(11, 27)),
    ("friday 27", NEEDS_TIME, at(11, 27)),
    ("today", NEEDS_TIME, at(11, 25)),
    ("dia 12", NEEDS_TIME, at(12, 12)),
    ("12th", NEEDS_TIME, at(12, 12)),
    ("in 2 weeks", NEEDS_TIME, at(12, 9)),
    ("quero marcar para quinta", NEEDS_TIME, at(11, 26)),
    ("sunday", CLOSED, at(11, 29)),
    ("yesterday", PAST, at(11, 24)),
    ("june 10", TOO_FAR, at(6, 10, year=2027)),
    ("asdkjh", INVALID, None),
    ("hello", INVALID, None),
    ("ok", INVALID, None),
    ("", INVALID, None),
    ("   ", INVALID, None),
    ("next week", INVALID, None),
    ("semana que vem", INVALID, None),
    ("weekend", INVALID, None),
    ("tomorrow at 25:00", INVALID, None),
    ("2026-13-01 at 10am", INVALID, None),
    ("dia 40", INVALID, None),
    ("31/11 at 10", INVALID, None),
    ("for 2 people at 3pm", INVALID, None),
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("text, outcome, local", PHRASINGS)
def test_phrasing_is_read_in_the_business_zone(
    zone: str, text: str, outcome: TimeOutcome, local: Optional[dt.datetime]
) -> None:
    tz = ZoneInfo(zone)
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, zone)
    result = parse_appointment_time(text, NOW.replace(tzinfo=tz), hours)
    assert result.outcome is outcome
    if local is None:
        assert result == TimeParse(INVALID, None)
    else:
        assert result.when == local.replace(tzinfo=tz)
        assert result.when.tzinfo == tz


def test_tomorrow_at_3pm_in_sao_paulo_is_18_utc() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "America/Sao_Paulo")
    now = dt.datetime(2026, 11, 25, 13, 0, tzinfo=dt.timezone.utc)
    result = parse_appointment_time("tomorrow at 3pm", now, hours)
    assert result.outcome is OK
    assert result.when.astimezone(dt.timezone.utc) == dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.timezone.utc)
    assert result.when.tzinfo == ZoneInfo("America/Sao_Paulo")


def test_tomorrow_counts_from_the_business_date_not_the_utc_date() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "America/Sao_Paulo")
    now = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.timezone.utc)  # still Wed 25 Nov, 22:00 in São Paulo
    result = parse_appointment_time("tomorrow at 3pm", now, hours)
    assert result.when == dt.datetime(2026, 11, 26, 15, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.mark.parametrize(
    "text, local, utc",
    [
        ("tomorrow at 3pm", dt.datetime(2027, 3, 28, 15, 0), dt.datetime(2027, 3, 28, 14, 0)),
        ("sunday at 9", dt.datetime(2027, 3, 28, 9, 0), dt.datetime(2027, 3, 28, 8, 0)),
        ("in 26 hours", dt.datetime(2027, 3, 28, 13, 0), dt.datetime(2027, 3, 28, 12, 0)),
        ("monday 10am", dt.datetime(2027, 3, 29, 10, 0), dt.datetime(2027, 3, 29, 9, 0)),
        ("today at 3pm", dt.datetime(2027, 3, 27, 15, 0), dt.datetime(2027, 3, 27, 15, 0)),
    ],
)
def test_lisbon_around_the_start_of_summer_time(text: str, local: dt.datetime, utc: dt.datetime) -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    hours = parse_business_hours(EVERY_DAY, "Europe/Lisbon")
    result = parse_appointment_time(text, dt.datetime(2027, 3, 27, 10, 0, tzinfo=lisbon), hours)
    assert result.outcome is OK
    assert result.when.replace(tzinfo=None) == local
    assert result.when.astimezone(dt.timezone.utc).replace(tzinfo=None) == utc


@pytest.mark.parametrize(
    "text, local, utc",
    [
        ("tomorrow at 10am", dt.datetime(2026, 11, 1, 10, 0), dt.datetime(2026, 11, 1, 15, 0)),
        ("in 24 hours", dt.datetime(2026, 11, 1, 9, 0), dt.datetime(2026, 11, 1, 14, 0)),
    ],
)
def test_new_york_around_the_end_of_summer_time(text: str, local: dt.datetime, utc: dt.datetime) -> None:
    new_york = ZoneInfo("America/New_York")
    hours = parse_business_hours(EVERY_DAY, "America/New_York")
    result = parse_appointment_time(text, dt.datetime(2026, 10, 31, 10, 0, tzinfo=new_york), hours)
    assert result.outcome is OK
    assert result.when.replace(tzinfo=None) == local
    assert result.when.astimezone(dt.timezone.utc).replace(tzinfo=None) == utc


def test_afternoon_rule_keeps_a_bare_hour_the_business_is_open_at() -> None:
    hours = parse_business_hours("mon-sun 00:00-24:00", "UTC")
    result = parse_appointment_time("tomorrow at 3", NOW.replace(tzinfo=dt.timezone.utc), hours)
    assert (result.outcome, result.when) == (OK, dt.datetime(2026, 11, 26, 3, 0, tzinfo=ZoneInfo("UTC")))


@pytest.mark.parametrize(
    "spec, outcome, hour",
    [("mon-fri 10:00-18:00", NEEDS_TIME, 0), ("mon-fri 08:30-18:00", NEEDS_TIME, 0), ("mon-fri 13:00-20:00", CLOSED, 9)],
)
def test_a_morning_with_open_time_asks_the_hour_and_a_closed_one_is_refused(spec: str, outcome: TimeOutcome, hour: int) -> None:
    hours = parse_business_hours(spec, "UTC")
    result = parse_appointment_time("tomorrow morning", NOW.replace(tzinfo=dt.timezone.utc), hours)
    assert result.outcome is outcome
    assert (result.when.date(), result.when.hour) == (dt.date(2026, 11, 26), hour)


@pytest.mark.parametrize(
    "text, min_lead, outcome",
    [
        ("in 10 minutes", dt.timedelta(0), OK),
        ("in 45 minutes", dt.timedelta(hours=1), TOO_SOON),
        ("in 1 hour", dt.timedelta(hours=1), OK),
    ],
)
def test_min_lead_sets_the_too_soon_limit(text: str, min_lead: dt.timedelta, outcome: TimeOutcome) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    result = parse_appointment_time(text, NOW.replace(tzinfo=dt.timezone.utc), hours, min_lead=min_lead)
    assert result.outcome is outcome


@pytest.mark.parametrize("text, outcome", [("24/05 at 10am", OK), ("24/05 at 10:01", TOO_FAR), ("25/05", TOO_FAR)])
def test_too_far_is_more_than_180_days_ahead(text: str, outcome: TimeOutcome) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    assert parse_appointment_time(text, NOW.replace(tzinfo=dt.timezone.utc), hours).outcome is outcome


@pytest.mark.parametrize(
    "now, outcome", [(dt.datetime(2026, 11, 25, 17, 0), NEEDS_TIME), (dt.datetime(2026, 11, 25, 17, 45), CLOSED)]
)
def test_today_without_a_time_is_closed_once_nothing_bookable_is_left(now: dt.datetime, outcome: TimeOutcome) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    result = parse_appointment_time("today", now.replace(tzinfo=dt.timezone.utc), hours)
    assert (result.outcome, result.when) == (outcome, dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc))


def test_a_long_message_is_invalid() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    text = "my phone screen is broken " * 30 + "tomorrow at 3pm"
    assert parse_appointment_time(text, NOW.replace(tzinfo=dt.timezone.utc), hours) == TimeParse(INVALID)


def test_naive_now_is_refused() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_appointment_time("tomorrow at 3pm", NOW, hours)


def test_outcome_is_a_plain_string_and_the_result_is_frozen() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    result = parse_appointment_time("tomorrow at 3pm", NOW.replace(tzinfo=dt.timezone.utc), hours)
    assert result.outcome == "ok"
    assert [outcome.value for outcome in TimeOutcome] == [
        "ok", "needs_time", "invalid", "past", "too_soon", "closed", "too_far"
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.outcome = TimeOutcome.PAST  # type: ignore[misc]
