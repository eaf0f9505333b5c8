"""Turn a customer's words ("tomorrow at 3", "dia 12 às 14h") into an appointment time, or say why not.

Read in the business time zone, relative to `now`:
- "in 2 hours" / "em 30 minutos" counts real elapsed time from `now` (right across DST changes).
- The time of day is read here, not by dateparser (which drops "at 3" and "14h"): `15:00`, `3pm`, `14h30`,
  `at 10`, `às 14`, `noon`/`meio-dia`, a bare hour after a day word ("thursday 10") or before a part of
  the day ("8 da noite"). Afternoon rule: a bare hour 1-11 with no am/pm and no leading zero ("at 3",
  "às 2h") is moved 12 h on when that hour is closed and the afternoon one is open (1-6: whenever the
  morning one is closed, so "sunday at 3" is a closed 15:00); "at 9" stays 09:00, "at 8" a closed 08:00.
- Parts of the day: morning is the day's opening time if before noon (else 09:00), afternoon 14:00,
  evening 18:00; with a clock, afternoon/evening add 12 h ("3 in the afternoon").
- The date: ISO dates, a bare day of the month ("dia 12", "the 12th": its next occurrence), then
  `dateparser.parse`, then `dateparser.search.search_dates` for chatty texts. Weekdays mean their next
  occurrence ("monday" said on a Monday is a week later); numeric dates are day first (`date_order`).
- A time with no date means today, or tomorrow once that moment has gone. A date with no time is
  `needs_time` (`when` = that date at 00:00): better to ask than to pick an hour the customer never chose.
  Vague spans ("next week", "weekend") are `invalid`.
Outcomes are checked in this order: past, too_soon (under `min_lead`), too_far, closed, ok.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import re
import unicodedata
from typing import Optional, Sequence, Tuple

import dateparser
from dateparser.search import search_dates

from supportdesk.scheduling.business_hours import BusinessHours

MAX_DAYS_AHEAD = 180
MAX_TEXT_CHARS = 500  # a reply to "when?" is short; longer texts make search_dates slow and guessy
MORNING_FALLBACK_MINUTE = 9 * 60
SMALL_HOURS_LAST = 6  # a bare "at 1".."at 6" means pm even when both readings are closed: nobody asks for 03:00
PERIOD_MINUTES = {"afternoon": 14 * 60, "evening": 18 * 60}
SEARCH_FALSE_HITS = {"may", "second", "sat", "sun", "mar", "now", "de", "a"}

_WEEKDAY = (
    r"(?:monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thu|friday|fri|saturday|sat|sunday|sun"
    r"|segunda|terça|terca|quarta|quinta|sexta|sábado|sabado|domingo)"
)
_DAY_WORD = rf"(?:{_WEEKDAY}|tomorrow|today|amanhã|amanha|hoje)"
_REWRITES = (
    (re.compile(r"[- ]feira\b"), ""),
    (re.compile(r"\bdepois de amanh[ãa]\b"), "em 2 dias"),
    (re.compile(r"\bday after tomorrow\b"), "in 2 days"),
    (re.compile(r"\b(?:tmrw|tmr|tomorow|2moro)\b"), "tomorrow"),
    (re.compile(r"\bhalf an hour\b"), "30 minutes"),
    (re.compile(r"\bmeia hora\b"), "30 minutos"),
    (re.compile(r"\b(?:daqui(?: a)?|dentro de)\b"), "em"),
    (re.compile(r"\bwithin\b"), "in"),
    (re.compile(r"\bem (?:duas|dois)\b"), "em 2"),
    (re.compile(r"\bem tr[êe]s\b"), "em 3"),
    (re.compile(rf"\b(?:next|this|coming|pr[óo]xim[ao]|nesta|nessa|esta|essa)\s+(?={_WEEKDAY}\b)"), ""),
    (re.compile(rf"\b({_WEEKDAY})\s+que vem\b"), r"\1"),
)
_VAGUE = re.compile(
    r"\b(?:(?:next|this|coming)\s+(?:week|month)|(?:pr[óo]xima|esta|essa|nesta)\s+semana|semana\s+que\s+vem"
    r"|(?:pr[óo]ximo|este|esse|neste)\s+m[êe]s|m[êe]s\s+que\s+vem|weekend|fim\s+de\s+semana)\b"
)
_RELATIVE = re.compile(
    r"\b(?:in|em)\s+(?:\d{1,3}|an?|one|two|three|uma?)\s*"
    r"(?:hours?|hrs?|h|minutes?|mins?|horas?|minutos?)\b"
)
_NOON = re.compile(r"(?:\b(?:at|ao|às|as)\s+)?\b(?P<word>noon|midday|meio[- ]dia|midnight|meia[- ]noite)\b")
_CLOCK = re.compile(
    r"(?:(?P<prep>\bat|@|\bàs|\bas|\baround|\bpelas|\bpor volta das|\ba partir das)\s*)?"
    r"(?<![\w/:.\-])(?P<hour>\d{1,2})"
    r"(?:(?::|h|(?(prep)\.|\.(?=\d{2}\s*[ap]\.?\s?m\b)))(?P<minute>\d{2}))?"  # 4.30 only after "at" or before pm
    r"(?:\s*(?P<suffix>[ap]\.?\s?m\b\.?|hs\b|hrs\b|h\b|horas?\b))?(?![\w/:\-]|\.\d)"
)
_PERIOD_WORD = r"(?:morning|afternoon|evening|tonight|night|manhã|manha|tarde|noite)"
_PERIOD_AHEAD = re.compile(rf"\s+(?:in the|of the|da|de|à|a)\s+{_PERIOD_WORD}\b")
_BARE_HOUR = re.compile(rf"\b(?P<day>{_DAY_WORD})\s+(?P<hour>\d{{1,2}})(?![\w/:.\-])")
_PERIOD = re.compile(
    r"(?:\b(?P<prefix>in the|this|esta|nesta|de|da|à|a|pela|na|of the)\s+)?"
    rf"\b(?P<word>{_PERIOD_WORD})\b"
)
_PERIOD_KIND = {"manhã": "morning", "manha": "morning", "tarde": "afternoon", "tonight": "evening",
                "night": "evening", "noite": "evening", "morning": "morning", "afternoon": "afternoon",
                "evening": "evening"}
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_OF_MONTH = re.compile(
    r"\b(?:dia|day|the)\s+(?P<day>\d{1,2})(?:st|nd|rd|th|º|°)?\b(?!\s*(?:/|-|de\s+[a-z]|of\s+[a-z]))"
)
_BARE_DAY_OF_MONTH = re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th|º|°)?")
_FILLER = re.compile(r"[\s,.;:!?]+|\b(?:at|on|às|as|de|do|da|no|na|para|for|dia|the|@)\b")


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
    languages: Sequence[str] = ("en", "pt"),
    date_order: str = "DMY",
) -> TimeParse:
    """Read an appointment time from customer text, relative to the aware `now`, in `hours`' zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_appointment_time needs a timezone-aware `now`")
    local_now = now.astimezone(hours.timezone)
    cleaned = _normalise(text)
    if not cleaned or len(cleaned) > MAX_TEXT_CHARS or _VAGUE.search(cleaned):
        return TimeParse(TimeOutcome.INVALID)
    settings = _dateparser_settings(local_now, hours, date_order)
    try:
        relative = _RELATIVE.search(cleaned)
        if relative:
            when = _relative_moment(relative.group(0), local_now, hours, languages, settings)
            return _judge_moment(when, local_now, hours, min_lead) if when else TimeParse(TimeOutcome.INVALID)
        clock, rest = _take_clock(cleaned)
        period, today_hint, rest = _take_period(rest)
        day = _read_day(rest, local_now, languages, settings)
    except _Unreadable:
        return TimeParse(TimeOutcome.INVALID)
    if day is None and today_hint:
        day = local_now.date()
    if clock is None and period is None:
        return _judge_day(day, local_now, hours, min_lead) if day else TimeParse(TimeOutcome.INVALID)
    when = _combine(day or local_now.date(), clock, period, hours)
    if day is None and _utc(when) <= _utc(local_now):
        when = _combine(local_now.date() + dt.timedelta(days=1), clock, period, hours)
    return _judge_moment(when, local_now, hours, min_lead)


def _normalise(text: str) -> str:
    cleaned = " ".join(unicodedata.normalize("NFC", text or "").lower().split())
    for pattern, replacement in _REWRITES:
        cleaned = pattern.sub(replacement, cleaned)
    return " ".join(cleaned.split())


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


def _take_clock(text: str) -> Tuple[Optional[_Clock], str]:
    """Find the time of day, returning it and the text without it."""
    noon = _NOON.search(text)
    if noon:
        hour = 0 if noon["word"] in ("midnight", "meia-noite", "meia noite") else 12
        return _Clock(hour, 0, None, False), _cut(text, noon)
    for match in _CLOCK.finditer(text):
        if match["prep"] or match["minute"] or match["suffix"] or _PERIOD_AHEAD.match(text, match.end()):
            return _clock_from(match["hour"], match["minute"], match["suffix"]), _cut(text, match)
    bare = _BARE_HOUR.search(text)
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
    match = _PERIOD.search(text)
    if not match:
        return None, False, text
    today = match["word"] == "tonight" or match["prefix"] in ("this", "esta", "nesta")
    return _PERIOD_KIND[match["word"]], today, _cut(text, match)


def _read_day(
    text: str, local_now: dt.datetime, languages: Sequence[str], settings: dict
) -> Optional[dt.date]:
    """The calendar date the text names, or None when it names none."""
    if not _FILLER.sub("", text):
        return None
    iso = _ISO_DATE.search(text)
    if iso:
        try:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            raise _Unreadable(iso.group(0)) from None
    day_of_month = _DAY_OF_MONTH.search(text) or _BARE_DAY_OF_MONTH.fullmatch(text.strip(" .!?"))
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
