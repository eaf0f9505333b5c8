"""Opening hours of the business, parsed from `BUSINESS_HOURS` in `BUSINESS_TIMEZONE`.

Spec grammar (case-insensitive): clauses separated by `;`, each `<days> <intervals>`, e.g.
`"mon-fri 09:00-12:00,13:00-18:00; sat 09:00-13:00"`. Days are English names or three-letter
abbreviations, as lists (`mon,wed`) or ranges (`mon-fri`, wrapping `fri-mon` allowed). Intervals are
`HH:MM-HH:MM` within one day (`24:00` may end one); a day may appear in several clauses as long as its
intervals do not overlap. Closed days are simply left out (`sun closed` is also accepted).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from typing import Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from supportdesk.platform.settings import SettingsError

DAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MINUTES_PER_DAY = 24 * 60
SPEC_EXAMPLE = "mon-fri 09:00-18:00; sat 09:00-13:00"
REOPENS_TODAY, REOPENS_TOMORROW, REOPENS_LATER = "today", "tomorrow", "later"

_CLAUSE = re.compile(r"^(?P<days>[a-z][a-z,\s\-–]*?)\s+(?P<hours>closed|\d.*)$")
_DAY_ITEM = re.compile(r"^(?P<first>[a-z]+)(?:\s*[-–]\s*(?P<last>[a-z]+))?$")
_INTERVAL = re.compile(r"^(?P<sh>\d{1,2}):(?P<sm>\d{2})\s*[-–]\s*(?P<eh>\d{1,2}):(?P<em>\d{2})$")


@dataclasses.dataclass(frozen=True, order=True)
class OpeningInterval:
    """One open stretch of a day, in minutes after local midnight (`end` may be 1440)."""

    start: int
    end: int

    def describe(self) -> str:
        """`09:00–18:00` style text."""
        return f"{_clock_text(self.start)}–{_clock_text(self.end)}"

    def end_text(self) -> str:
        """The closing time as `HH:MM` (`24:00` for midnight)."""
        return _clock_text(self.end)


@dataclasses.dataclass(frozen=True)
class BusinessHours:
    """Weekly opening intervals (index 0 is Monday) in one IANA time zone."""

    timezone: ZoneInfo
    weekly: Tuple[Tuple[OpeningInterval, ...], ...]

    def intervals_on(self, day: dt.date) -> Tuple[OpeningInterval, ...]:
        """The opening intervals of a calendar date, sorted (empty when closed that weekday)."""
        return self.weekly[day.weekday()]

    def opens_at(self, day: dt.date) -> Optional[dt.time]:
        """The first opening time of a calendar date, or None when closed all day."""
        intervals = self.intervals_on(day)
        return _clock_time(intervals[0].start) if intervals else None

    def is_open(self, at: dt.datetime) -> bool:
        """True when the aware moment `at` falls inside an opening interval (end excluded)."""
        local = self._local(at)
        minute = local.hour * 60 + local.minute
        return any(interval.start <= minute < interval.end for interval in self.intervals_on(local.date()))

    def next_opening(self, after: dt.datetime) -> dt.datetime:
        """The first moment at or after `after` when the business is open, in the business zone."""
        local = self._local(after)
        if self.is_open(local):
            return local
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            for interval in self.intervals_on(day):
                opening = self.local_datetime(day, interval.start)
                if opening.astimezone(dt.timezone.utc) > local.astimezone(dt.timezone.utc):
                    return opening
        raise AssertionError("parse_business_hours guarantees at least one opening a week")

    def open_interval(self, at: dt.datetime) -> Optional[OpeningInterval]:
        """The opening interval the aware moment `at` falls in, or None while closed."""
        local = self._local(at)
        minute = local.hour * 60 + local.minute
        return next((i for i in self.intervals_on(local.date()) if i.start <= minute < i.end), None)

    def reopening(self, after: dt.datetime) -> Tuple[dt.datetime, str]:
        """The next opening after `after` and when it falls: `today`, `tomorrow` or `later` (local dates)."""
        opening = self.next_opening(after)
        today = self._local(after).date()
        if opening.date() == today:
            return opening, REOPENS_TODAY
        if opening.date() == today + dt.timedelta(days=1):
            return opening, REOPENS_TOMORROW
        return opening, REOPENS_LATER

    def local_datetime(self, day: dt.date, minute: int) -> dt.datetime:
        """Aware datetime for a wall-clock minute of `day`; a time skipped by DST moves forward."""
        naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
        aware = naive.replace(tzinfo=self.timezone)
        return aware.astimezone(dt.timezone.utc).astimezone(self.timezone)

    def opening_groups(self) -> Tuple[Tuple[int, int, Tuple[OpeningInterval, ...]], ...]:
        """Runs of consecutive weekdays with the same hours, as `(first, last, intervals)`; closed days left out.

        `scheduling.wording` turns them into the customer's words (`Monday–Friday 09:00–18:00`).
        """
        groups = []
        index = 0
        while index < 7:
            last = index
            while last + 1 < 7 and self.weekly[last + 1] == self.weekly[index]:
                last += 1
            if self.weekly[index]:
                groups.append((index, last, self.weekly[index]))
            index = last + 1
        return tuple(groups)

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("BusinessHours needs timezone-aware datetimes")
        return moment.astimezone(self.timezone)


@functools.lru_cache(maxsize=16)
def parse_business_hours(spec: str, timezone: str) -> BusinessHours:
    """Parse the `BUSINESS_HOURS` spec in the `BUSINESS_TIMEZONE` zone; SettingsError names the bad one."""
    zone = _zone(timezone)
    weekly: list = [[] for _ in range(7)]
    clauses = [clause.strip() for clause in spec.lower().split(";") if clause.strip()]
    if not clauses:
        raise SettingsError(f"BUSINESS_HOURS is empty; expected something like {SPEC_EXAMPLE!r}")
    for clause in clauses:
        match = _CLAUSE.match(clause)
        if not match:
            raise SettingsError(f"BUSINESS_HOURS: cannot read {clause!r}; expected something like {SPEC_EXAMPLE!r}")
        intervals = [] if match["hours"] == "closed" else _intervals(match["hours"])
        for day in _days(match["days"]):
            weekly[day].extend(intervals)
    for day, intervals in enumerate(weekly):
        intervals.sort()
        for earlier, later in zip(intervals, intervals[1:]):
            if later.start < earlier.end:
                raise SettingsError(
                    f"BUSINESS_HOURS: {DAY_NAMES[day]} has overlapping intervals "
                    f"{earlier.describe()} and {later.describe()}"
                )
    if not any(weekly):
        raise SettingsError("BUSINESS_HOURS opens on no day of the week")
    return BusinessHours(timezone=zone, weekly=tuple(tuple(intervals) for intervals in weekly))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"BUSINESS_TIMEZONE: unknown time zone {name!r}; use an IANA name such as 'America/Sao_Paulo'"
        ) from None


def _day_index(name: str) -> int:
    name = name.strip()
    if name in DAY_ABBREVIATIONS:
        return DAY_ABBREVIATIONS.index(name)
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    raise SettingsError(f"BUSINESS_HOURS: unknown day {name!r}; use mon, tue, wed, thu, fri, sat or sun")


def _days(text: str) -> list:
    days = []
    for item in re.split(r"\s*,\s*", text.strip()):
        match = _DAY_ITEM.match(item)
        if not match:
            raise SettingsError(f"BUSINESS_HOURS: cannot read days {item!r}; use e.g. 'mon-fri' or 'mon,wed'")
        first = _day_index(match["first"])
        last = _day_index(match["last"]) if match["last"] else first
        days.extend((first + step) % 7 for step in range((last - first) % 7 + 1))
    return days


def _intervals(text: str) -> list:
    intervals = []
    for item in re.split(r"\s*,\s*", text.strip()):
        match = _INTERVAL.match(item)
        if not match:
            raise SettingsError(f"BUSINESS_HOURS: cannot read hours {item!r}; use e.g. '09:00-18:00'")
        start = _minute_of_day(match["sh"], match["sm"], item)
        end = _minute_of_day(match["eh"], match["em"], item)
        if end <= start:
            raise SettingsError(
                f"BUSINESS_HOURS: {item!r} must end after it starts (split overnight hours across two days)"
            )
        intervals.append(OpeningInterval(start, end))
    return intervals


def _minute_of_day(hour: str, minute: str, item: str) -> int:
    value = int(hour) * 60 + int(minute)
    if int(minute) > 59 or value > MINUTES_PER_DAY:
        raise SettingsError(f"BUSINESS_HOURS: {item!r} has a time outside 00:00-24:00")
    return value


def _clock_time(minute: int) -> dt.time:
    return dt.time(minute // 60, minute % 60) if minute < MINUTES_PER_DAY else dt.time.max


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
