"""Turn a customer's words ("tomorrow at 3", "dia 12 às 14h") into an appointment time, or say why not.

Read in the business time zone, relative to `now`, in the conversation's language (`time_phrases` holds
the words, English and Brazilian Portuguese with WhatsApp spellings, and each language's reading):
- "in 2 hours" / "em 30 minutos" counts real elapsed time from `now` (right across DST changes).
- The time of day is read here, not by dateparser (which drops "at 3" and "14h"): `15:00`, `3pm`, `14h30`,
  `at 10`, `às 14`, `3 e meia`, `noon`/`meio-dia`, a bare hour after a day word ("thursday 10") or before a
  part of the day ("8 da noite"). Afternoon rule: a bare hour 1-11 with no am/pm and no leading zero ("at 3",
  "às 2h") is moved 12 h on when that hour is closed and the afternoon one is open (1-6: whenever the
  morning one is closed, so "sunday at 3" is a closed 15:00); "at 9" stays 09:00, "at 8" a closed 08:00.
- Parts of the day: morning is the day's opening time if before noon (else 09:00), afternoon 14:00,
  evening 18:00; with a clock, afternoon/evening add 12 h ("3 in the afternoon"). A language whose reading
  says so (Portuguese) asks for the hour instead: "segunda de manhã" is `needs_time` while that part of the
  day has bookable open time, else past or closed.
- The date: ISO dates, a bare day of the month ("dia 12", "the 12th": its next occurrence), then
  `dateparser.parse`, then `dateparser.search.search_dates` for chatty texts, in the reading's language
  order. Weekdays mean their next occurrence ("monday" said on a Monday is a week later; "sexta da semana
  que vem" is the Friday of next week); numeric dates are day first (`date_order`).
- A time with no date means today, or tomorrow once that moment has gone (or `asked_day`, the day the
  customer was just asked the hour of: there "10" alone is 10:00). A date with no time is `needs_time`
  (`when` = that date at 00:00): better to ask than to pick an hour the customer never chose.
  Vague spans ("next week", "weekend") are `invalid`.
Outcomes are checked in this order: past, too_soon (under `min_lead`), too_far, closed, ok.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import re
from typing import Optional, Sequence, Tuple

import dateparser
from dateparser.search import search_dates

from supportdesk.scheduling import time_phrases as words
from supportdesk.scheduling.business_hours import BusinessHours

MAX_DAYS_AHEAD = 180
MAX_TEXT_CHARS = 500  # a reply to "when?" is short; longer texts make search_dates slow and guessy
MORNING_FALLBACK_MINUTE = 9 * 60
SMALL_HOURS_LAST = 6  # a bare "at 1".."at 6" means pm even when both readings are closed: nobody asks for 03:00
PERIOD_MINUTES = {"afternoon": 14 * 60, "evening": 18 * 60}
# Where each part of the day lies, in minutes after midnight (a Brazilian "noite" starts at six).
PERIOD_SPANS = {"morning": (0, 12 * 60), "afternoon": (12 * 60, 18 * 60), "evening": (18 * 60, 24 * 60)}
SEARCH_FALSE_HITS = {"may", "second", "sat", "sun", "mar", "now", "de", "a"}


class TimeOutcome(str, enum.Enum):
    """What became of the customer's text; a str so it can go straight into a slot or JSON."""

    OK = "ok"
    NEEDS_TIME = "needs_time"
    INVALID = "invalid"
    PAST = "past"
    TOO_SOON = "too_soon"
    CLOSED = "closed"
    TOO_FAR = "too_far"


@dataclasses.dataclass(frozen=True)
class TimeParse:
    """Outcome plus the moment understood (aware, business zone); `scheduling.wording` puts it in words."""

    outcome: TimeOutcome
    when: Optional[dt.datetime] = None


@dataclasses.dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    meridiem: Optional[str]
    ambiguous: bool


class _Unreadable(Exception):
    """The text names a time or date that cannot exist (25:00, day 40)."""


def parse_appointment_time(
    text: str,
    now: dt.datetime,
    hours: BusinessHours,
    *,
    min_lead: dt.timedelta = dt.timedelta(minutes=30),
    language: Optional[str] = None,
    asked_day: Optional[dt.date] = None,
) -> TimeParse:
    """Read an appointment time from customer text, relative to the aware `now`, in `hours`' zone.

    `language` is the conversation's (`en`, `pt-BR`: see `time_phrases.READINGS`); `asked_day` is the day
    the customer was just asked the hour of (a `needs_time` re-ask): a time with no date falls on it.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_appointment_time needs a timezone-aware `now`")
    local_now = now.astimezone(hours.timezone)
    reading = words.reading_for(language)
    cleaned = words.normalise(text, local_now.date())
    if not cleaned or len(cleaned) > MAX_TEXT_CHARS or words.VAGUE.search(cleaned):
        return TimeParse(TimeOutcome.INVALID)
    settings = _dateparser_settings(local_now, hours, reading.date_order)
    try:
        relative = words.RELATIVE.search(cleaned)
        if relative:
            when = _relative_moment(relative.group(0), local_now, hours, reading.languages, settings)
            return _judge_moment(when, local_now, hours, min_lead) if when else TimeParse(TimeOutcome.INVALID)
        clock, rest = _take_clock(cleaned, hour_alone=asked_day is not None)
        period, today_hint, rest = _take_period(rest)
        day = _read_day(rest, local_now, reading.languages, settings)
    except _Unreadable:
        return TimeParse(TimeOutcome.INVALID)
    if day is None and today_hint:
        day = local_now.date()
    if day is None and (clock or period):
        day = asked_day
    if clock is None and period is None:
        return _judge_day(day, local_now, hours, min_lead) if day else TimeParse(TimeOutcome.INVALID)
    if clock is None:  # "monday morning", "à tarde": ask for the hour rather than guess one
        return _judge_part_of_day(day, period, local_now, hours, min_lead)
    when = _combine(day or local_now.date(), clock, period, hours)
    if day is None and _utc(when) <= _utc(local_now):
        when = _combine(local_now.date() + dt.timedelta(days=1), clock, period, hours)
    return _judge_moment(when, local_now, hours, min_lead)


def _dateparser_settings(local_now: dt.datetime, hours: BusinessHours, date_order: str) -> dict:
    return {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "TIMEZONE": hours.timezone.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "DATE_ORDER": date_order,
    }


def _relative_moment(
    phrase: str, local_now: dt.datetime, hours: BusinessHours, languages: Sequence[str], settings: dict
) -> Optional[dt.datetime]:
    """`now` plus the span dateparser reads from "in 2 hours", added in UTC so DST cannot bend it."""
    parsed = dateparser.parse(phrase, languages=list(languages), settings=settings)
    if parsed is None:
        return None
    elapsed = parsed.replace(tzinfo=None) - settings["RELATIVE_BASE"]
    moment = _utc(local_now) + elapsed
    if moment.second or moment.microsecond:
        moment += dt.timedelta(minutes=1) - dt.timedelta(seconds=moment.second, microseconds=moment.microsecond)
    return moment.astimezone(hours.timezone)


def _take_clock(text: str, hour_alone: bool = False) -> Tuple[Optional[_Clock], str]:
    """Find the time of day, returning it and the text without it; `hour_alone` reads "10" as 10:00."""
    noon = words.NOON.search(text)
    if noon:
        hour = 0 if noon["word"] in ("midnight", "meia-noite", "meia noite") else 12
        return _Clock(hour, 0, None, False), _cut(text, noon)
    only_hour = words.ONLY_HOUR.fullmatch(text) if hour_alone else None
    if only_hour:
        return _clock_from(only_hour["hour"], None, None), ""
    for match in words.CLOCK.finditer(text):
        if match["prep"] or match["minute"] or match["suffix"] or words.PERIOD_AHEAD.match(text, match.end()):
            return _clock_from(match["hour"], match["minute"], match["suffix"]), _cut(text, match)
    bare = words.BARE_HOUR.search(text)
    if bare and int(bare["hour"]) <= 23:
        clock = _clock_from(bare["hour"], None, None)
        return clock, text[: bare.start("hour")] + text[bare.end("hour"):]
    return None, text


def _clock_from(hour_text: str, minute_text: Optional[str], suffix: Optional[str]) -> _Clock:
    hour, minute = int(hour_text), int(minute_text or 0)
    meridiem = suffix[0] + "m" if suffix and suffix[0] in "ap" and suffix[-1] != "s" else None
    if hour > 23 or minute > 59 or (meridiem and hour == 0):
        raise _Unreadable(hour_text)
    if hour > 12:
        meridiem = None
    ambiguous = meridiem is None and 1 <= hour <= 11 and not hour_text.startswith("0")
    return _Clock(hour, minute, meridiem, ambiguous)


def _take_period(text: str) -> Tuple[Optional[str], bool, str]:
    """Find morning/afternoon/evening (en, pt); the flag says the words also meant today."""
    match = words.PERIOD.search(text)
    if not match:
        return None, False, text
    today = match["word"] == "tonight" or match["prefix"] in words.TODAY_PREFIXES
    return words.PERIOD_KIND[match["word"]], today, _cut(text, match)


def _read_day(
    text: str, local_now: dt.datetime, languages: Sequence[str], settings: dict
) -> Optional[dt.date]:
    """The calendar date the text names, or None when it names none."""
    if not words.FILLER.sub("", text):
        return None
    iso = words.ISO_DATE.search(text)
    if iso:
        try:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            raise _Unreadable(iso.group(0)) from None
    day_of_month = words.DAY_OF_MONTH.search(text) or words.BARE_DAY_OF_MONTH.fullmatch(text.strip(" .!?"))
    if day_of_month:
        return _next_day_of_month(int(day_of_month["day"]), local_now.date())
    text = re.sub(r"\bdia\s+", "", text).strip(" ,.;:!?")
    parsed = dateparser.parse(text, languages=list(languages), settings=settings)
    if parsed is None:
        found = search_dates(text, languages=list(languages), settings=settings) or []
        hits = [moment for words, moment in found if words.strip().lower() not in SEARCH_FALSE_HITS]
        parsed = hits[0] if hits else None
    if parsed is None and re.search(r"\d", text):
        raise _Unreadable(text)  # a number we cannot place ("31/11") must not fall back to "today"
    return parsed.date() if parsed else None


def _next_day_of_month(day: int, today: dt.date) -> dt.date:
    """The first date on or after `today` that falls on day `day` of its month."""
    for months_ahead in range(13):
        years, month_index = divmod(today.month - 1 + months_ahead, 12)
        with contextlib.suppress(ValueError):
            candidate = dt.date(today.year + years, month_index + 1, day)
            if candidate >= today:
                return candidate
    raise _Unreadable(str(day))


def _combine(day: dt.date, clock: Optional[_Clock], period: Optional[str], hours: BusinessHours) -> dt.datetime:
    """The moment on `day` named by a clock reading and/or a part of the day (see module rules)."""
    if clock is None:
        if period == "morning":
            opens = hours.opens_at(day)
            minute = opens.hour * 60 + opens.minute if opens and opens.hour < 12 else MORNING_FALLBACK_MINUTE
        else:
            minute = PERIOD_MINUTES[period]
        return hours.local_datetime(day, minute)
    hour = clock.hour
    if clock.meridiem == "pm" and hour < 12:
        hour += 12
    elif clock.meridiem == "am" and hour == 12:
        hour = 0
    elif clock.meridiem is None and period in ("afternoon", "evening") and hour < 12:
        hour += 12
    when = hours.local_datetime(day, hour * 60 + clock.minute)
    if clock.ambiguous and period is None and not hours.is_open(when):
        afternoon = hours.local_datetime(day, (hour + 12) * 60 + clock.minute)
        if hours.is_open(afternoon) or hour <= SMALL_HOURS_LAST:
            return afternoon
    return when


def _judge_moment(
    when: dt.datetime, local_now: dt.datetime, hours: BusinessHours, min_lead: dt.timedelta
) -> TimeParse:
    moment, start = _utc(when), _utc(local_now)
    if moment < start:
        outcome = TimeOutcome.PAST
    elif moment < start + min_lead:
        outcome = TimeOutcome.TOO_SOON
    elif moment > start + dt.timedelta(days=MAX_DAYS_AHEAD):
        outcome = TimeOutcome.TOO_FAR
    else:
        outcome = TimeOutcome.OK if hours.is_open(when) else TimeOutcome.CLOSED
    return TimeParse(outcome, when)


def _judge_part_of_day(
    day: Optional[dt.date], period: str, local_now: dt.datetime, hours: BusinessHours, min_lead: dt.timedelta
) -> TimeParse:
    """A part of the day with no hour: `needs_time` while it has bookable open time, else why not.

    No day means today while that part of the day lasts, else tomorrow (as for a time with no date).
    Open time left only within `min_lead` is too_soon; none left at all is closed.
    """
    first, last = PERIOD_SPANS[period]
    if day is None:
        today = local_now.date()
        day = today if _utc(hours.local_datetime(today, last)) > _utc(local_now) else today + dt.timedelta(days=1)
    picked = _combine(day, None, period, hours)  # the hour English would pick: what a refusal talks about
    if day < local_now.date() or _utc(hours.local_datetime(day, last)) <= _utc(local_now):
        return TimeParse(TimeOutcome.PAST, picked)
    if day > (local_now + dt.timedelta(days=MAX_DAYS_AHEAD)).date():
        return TimeParse(TimeOutcome.TOO_FAR, picked)
    open_until = [  # the last open minute of each open stretch inside that part of the day, still to come
        _utc(hours.local_datetime(day, min(interval.end, last) - 1))
        for interval in hours.intervals_on(day)
        if max(interval.start, first) < min(interval.end, last)
    ]
    open_until = [moment for moment in open_until if moment >= _utc(local_now)]
    if any(moment >= _utc(local_now) + min_lead for moment in open_until):
        return TimeParse(TimeOutcome.NEEDS_TIME, hours.local_datetime(day, 0))
    return TimeParse(TimeOutcome.TOO_SOON if open_until else TimeOutcome.CLOSED, picked)


def _judge_day(day: dt.date, local_now: dt.datetime, hours: BusinessHours, min_lead: dt.timedelta) -> TimeParse:
    today = local_now.date()
    earliest = (_utc(local_now) + min_lead).astimezone(hours.timezone)
    if day < today:
        outcome = TimeOutcome.PAST
    elif day > (local_now + dt.timedelta(days=MAX_DAYS_AHEAD)).date():
        outcome = TimeOutcome.TOO_FAR
    elif not hours.intervals_on(day) or (day == today and hours.next_opening(earliest).date() != today):
        outcome = TimeOutcome.CLOSED
    else:
        outcome = TimeOutcome.NEEDS_TIME
    return TimeParse(outcome, hours.local_datetime(day, 0))


def _cut(text: str, match: re.Match) -> str:
    return f"{text[: match.start()]} {text[match.end():]}".strip()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)
