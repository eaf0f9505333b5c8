"""Business hours: spec parsing, clear setting errors, is_open, next_opening across weekends and DST."""

import dataclasses
import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from supportdesk.platform.settings import Settings, SettingsError
from supportdesk.scheduling.business_hours import (
    DAY_NAMES,
    REOPENS_LATER,
    REOPENS_TODAY,
    REOPENS_TOMORROW,
    OpeningInterval,
    parse_business_hours,
)

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
WEEKDAYS_AND_SATURDAY = "mon-fri 09:00-18:00; sat 09:00-13:00"


def sao_paulo(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SAO_PAULO)


@pytest.mark.parametrize(
    "spec, groups",
    [
        ("mon-fri 09:00-18:00", [(0, 4, ((540, 1080),))]),
        (WEEKDAYS_AND_SATURDAY, [(0, 4, ((540, 1080),)), (5, 5, ((540, 780),))]),
        ("mon-fri 09:00-12:00,13:00-18:00; sat 09:00-13:00", [(0, 4, ((540, 720), (780, 1080))), (5, 5, ((540, 780),))]),
        ("mon,wed 10:00-16:00; fri 10:00-12:00", [(0, 0, ((600, 960),)), (2, 2, ((600, 960),)), (4, 4, ((600, 720),))]),
        ("Monday - Friday 9:00 - 17:30", [(0, 4, ((540, 1050),))]),
        ("fri-mon 10:00-14:00", [(0, 0, ((600, 840),)), (4, 6, ((600, 840),))]),
        ("mon-sat 08:00-20:00; sun closed", [(0, 5, ((480, 1200),))]),
        ("mon 14:00-18:00; mon 09:00-12:00", [(0, 0, ((540, 720), (840, 1080)))]),
        ("mon-sun 00:00-24:00", [(0, 6, ((0, 1440),))]),
        ("mon-fri 09:00–18:00", [(0, 4, ((540, 1080),))]),
    ],
)
def test_spec_is_parsed_into_runs_of_days(spec: str, groups: list) -> None:
    parsed = parse_business_hours(spec, "UTC").opening_groups()
    assert [(first, last, tuple((i.start, i.end) for i in intervals)) for first, last, intervals in parsed] == groups


def test_parsed_structure_holds_minutes_per_weekday() -> None:
    hours = parse_business_hours("mon-fri 09:00-12:00,13:00-18:00; sat 09:00-13:00", "America/Sao_Paulo")
    assert hours.timezone == SAO_PAULO
    assert hours.weekly[0] == (OpeningInterval(540, 720), OpeningInterval(780, 1080))
    assert hours.weekly[5] == (OpeningInterval(540, 780),)
    assert hours.weekly[6] == ()
    assert hours.opens_at(dt.date(2026, 11, 28)) == dt.time(9, 0)
    assert hours.opens_at(dt.date(2026, 11, 29)) is None


def test_business_hours_are_frozen() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    with pytest.raises(dataclasses.FrozenInstanceError):
        hours.weekly = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "BUSINESS_HOURS is empty; expected something like 'mon-fri 09:00-18:00; sat 09:00-13:00'"),
        (" ; ", "BUSINESS_HOURS is empty; expected something like 'mon-fri 09:00-18:00; sat 09:00-13:00'"),
        ("mon-fri", "BUSINESS_HOURS: cannot read 'mon-fri'; expected something like "
                    "'mon-fri 09:00-18:00; sat 09:00-13:00'"),
        ("09:00-18:00", "BUSINESS_HOURS: cannot read '09:00-18:00'; expected something like "
                        "'mon-fri 09:00-18:00; sat 09:00-13:00'"),
        ("mon-fri 9-18", "BUSINESS_HOURS: cannot read hours '9-18'; use e.g. '09:00-18:00'"),
        ("funday 09:00-18:00", "BUSINESS_HOURS: unknown day 'funday'; use mon, tue, wed, thu, fri, sat or sun"),
        ("mon-fri-sat 09:00-18:00", "BUSINESS_HOURS: cannot read days 'mon-fri-sat'; use e.g. 'mon-fri' or 'mon,wed'"),
        ("mon-fri 18:00-09:00", "BUSINESS_HOURS: '18:00-09:00' must end after it starts "
                                "(split overnight hours across two days)"),
        ("mon-fri 09:00-25:00", "BUSINESS_HOURS: '09:00-25:00' has a time outside 00:00-24:00"),
        ("mon-fri 09:60-18:00", "BUSINESS_HOURS: '09:60-18:00' has a time outside 00:00-24:00"),
        ("mon 09:00-12:00,11:00-14:00",
         "BUSINESS_HOURS: monday has overlapping intervals 09:00–12:00 and 11:00–14:00"),
        ("mon-fri 09:00-18:00; wed 17:00-19:00",
         "BUSINESS_HOURS: wednesday has overlapping intervals 09:00–18:00 and 17:00–19:00"),
        ("sun closed", "BUSINESS_HOURS opens on no day of the week"),
    ],
)
def test_bad_spec_names_the_setting(spec: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_business_hours(spec, "UTC")
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "utc", "../etc/passwd", "GMT+3"])
def test_unknown_time_zone_names_the_setting(zone: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_business_hours(WEEKDAYS_AND_SATURDAY, zone)
    assert str(raised.value) == (
        f"BUSINESS_TIMEZONE: unknown time zone {zone!r}; use an IANA name such as 'America/Sao_Paulo'"
    )


@pytest.mark.parametrize(
    "moment, expected",
    [
        (sao_paulo(2026, 11, 25, 8, 59, 59), False),
        (sao_paulo(2026, 11, 25, 9, 0), True),
        (sao_paulo(2026, 11, 25, 17, 59, 59), True),
        (sao_paulo(2026, 11, 25, 18, 0), False),
        (sao_paulo(2026, 11, 28, 12, 30), True),
        (sao_paulo(2026, 11, 28, 13, 0), False),
        (sao_paulo(2026, 11, 29, 11, 0), False),
        (dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc), True),
        (dt.datetime(2026, 11, 25, 11, 59, tzinfo=dt.timezone.utc), False),
        (dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.timezone.utc), False),
    ],
)
def test_is_open_reads_the_moment_in_the_business_zone(moment: dt.datetime, expected: bool) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "America/Sao_Paulo")
    assert hours.is_open(moment) is expected


def test_naive_datetimes_are_refused() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.is_open(dt.datetime(2026, 11, 25, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.next_opening(dt.datetime(2026, 11, 25, 10, 0))


@pytest.mark.parametrize(
    "spec, after, expected",
    [
        (WEEKDAYS_AND_SATURDAY, sao_paulo(2026, 11, 25, 10, 15), sao_paulo(2026, 11, 25, 10, 15)),
        (WEEKDAYS_AND_SATURDAY, sao_paulo(2026, 11, 25, 7, 0), sao_paulo(2026, 11, 25, 9, 0)),
        (WEEKDAYS_AND_SATURDAY, sao_paulo(2026, 11, 27, 18, 0), sao_paulo(2026, 11, 28, 9, 0)),
        (WEEKDAYS_AND_SATURDAY, sao_paulo(2026, 11, 28, 13, 0), sao_paulo(2026, 11, 30, 9, 0)),
        (WEEKDAYS_AND_SATURDAY, sao_paulo(2026, 11, 29, 23, 59), sao_paulo(2026, 11, 30, 9, 0)),
        ("mon-fri 09:00-18:00", sao_paulo(2026, 11, 27, 18, 30), sao_paulo(2026, 11, 30, 9, 0)),
        ("mon-fri 09:00-12:00,13:00-18:00", sao_paulo(2026, 11, 25, 12, 30), sao_paulo(2026, 11, 25, 13, 0)),
        ("mon,tue,thu,fri 09:00-18:00", sao_paulo(2026, 11, 24, 19, 0), sao_paulo(2026, 11, 26, 9, 0)),
        ("wed 10:00-11:00", sao_paulo(2026, 11, 25, 11, 0), sao_paulo(2026, 12, 2, 10, 0)),
        (WEEKDAYS_AND_SATURDAY, dt.datetime(2026, 11, 28, 20, 0, tzinfo=dt.timezone.utc),
         sao_paulo(2026, 11, 30, 9, 0)),
    ],
)
def test_next_opening(spec: str, after: dt.datetime, expected: dt.datetime) -> None:
    opening = parse_business_hours(spec, "America/Sao_Paulo").next_opening(after)
    assert opening == expected
    assert opening.tzinfo == SAO_PAULO
    assert opening.replace(tzinfo=None) == expected.replace(tzinfo=None)


def test_next_opening_across_the_spring_dst_change_in_lisbon() -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    hours = parse_business_hours("mon-fri 09:00-18:00", "Europe/Lisbon")
    opening = hours.next_opening(dt.datetime(2027, 3, 26, 18, 0, tzinfo=lisbon))
    assert opening.replace(tzinfo=None) == dt.datetime(2027, 3, 29, 9, 0)
    assert opening.astimezone(dt.timezone.utc) == dt.datetime(2027, 3, 29, 8, 0, tzinfo=dt.timezone.utc)


def test_opening_at_a_wall_time_skipped_by_dst_moves_forward() -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    hours = parse_business_hours("sun 01:30-03:00", "Europe/Lisbon")
    opening = hours.next_opening(dt.datetime(2027, 3, 28, 0, 0, tzinfo=lisbon))
    assert opening.astimezone(dt.timezone.utc) == dt.datetime(2027, 3, 28, 1, 30, tzinfo=dt.timezone.utc)
    assert opening.replace(tzinfo=None) == dt.datetime(2027, 3, 28, 2, 30)


KNOWLEDGE_HOURS = Path(__file__).resolve().parents[3] / "data" / "knowledge" / "hours.md"
_KNOWLEDGE_LINE = re.compile(
    r"^- (?P<first>[A-Z][a-z]+day)(?: to (?P<last>[A-Z][a-z]+day))?: "
    r"(?:(?P<sh>\d{1,2}):(?P<sm>\d\d) to (?P<eh>\d{1,2}):(?P<em>\d\d)|closed)"
)


def hours_in_knowledge(text: str) -> tuple:
    """The weekly hours the sample knowledge file states, as `BusinessHours.weekly` would hold them."""
    weekly = [() for _ in range(7)]
    for line in text.splitlines():
        match = _KNOWLEDGE_LINE.match(line)
        if match is None:
            continue
        first = DAY_NAMES.index(match["first"].lower())
        last = DAY_NAMES.index(match["last"].lower()) if match["last"] else first
        interval = () if match["sh"] is None else (OpeningInterval(
            int(match["sh"]) * 60 + int(match["sm"]), int(match["eh"]) * 60 + int(match["em"])),)
        for day in range(first, last + 1):
            weekly[day] = interval
    return tuple(weekly)


def test_the_sample_knowledge_the_default_setting_and_env_example_state_the_same_hours() -> None:
    default = Settings().business_hours
    weekly = parse_business_hours(default, "UTC").weekly
    assert hours_in_knowledge(KNOWLEDGE_HOURS.read_text(encoding="utf-8")) == weekly
    assert weekly[5] == weekly[6] == ()  # the contract's default: closed at weekends
    env_example = (KNOWLEDGE_HOURS.parents[2] / ".env.example").read_text(encoding="utf-8")
    assert f"BUSINESS_HOURS={default}\n" in env_example


def test_a_knowledge_file_that_disagrees_is_caught() -> None:
    wrong = "- Monday to Friday: 9:00 to 18:00\n- Saturday: 9:00 to 13:00\n- Sunday: closed\n"
    assert hours_in_knowledge(wrong) != parse_business_hours(Settings().business_hours, "UTC").weekly


def test_open_interval_and_reopening() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "America/Sao_Paulo")
    assert hours.open_interval(sao_paulo(2026, 11, 28, 10, 0)) == OpeningInterval(540, 780)
    assert hours.open_interval(sao_paulo(2026, 11, 28, 13, 0)) is None
    assert hours.reopening(sao_paulo(2026, 11, 27, 7, 0)) == (sao_paulo(2026, 11, 27, 9, 0), REOPENS_TODAY)
    assert hours.reopening(sao_paulo(2026, 11, 27, 19, 0)) == (sao_paulo(2026, 11, 28, 9, 0), REOPENS_TOMORROW)
    assert hours.reopening(sao_paulo(2026, 11, 28, 14, 0)) == (sao_paulo(2026, 11, 30, 9, 0), REOPENS_LATER)
    assert OpeningInterval(540, 1440).end_text() == "24:00"
