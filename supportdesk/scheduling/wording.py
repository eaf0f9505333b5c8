"""Dates, times and opening hours in words: every word is a response in `domain/scheduling.yml`.

Python supplies data only (the day of the month, `HH:MM` clock times, which weekday and month);
the names of weekdays and months and the order of the parts are responses, rendered with the
conversation's slots, so another language is a set of variations in YAML, not a code change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

from supportdesk.platform.responses import get_responses
from supportdesk.scheduling.business_hours import BusinessHours, OpeningInterval

Slots = Optional[Mapping[str, Any]]

WEEKDAY_RESPONSES = (  # index 0 is Monday, as in `date.weekday()`
    "utter_scheduling_monday",
    "utter_scheduling_tuesday",
    "utter_scheduling_wednesday",
    "utter_scheduling_thursday",
    "utter_scheduling_friday",
    "utter_scheduling_saturday",
    "utter_scheduling_sunday",
)
MONTH_RESPONSES = (  # index 0 is January
    "utter_scheduling_january",
    "utter_scheduling_february",
    "utter_scheduling_march",
    "utter_scheduling_april",
    "utter_scheduling_may",
    "utter_scheduling_june",
    "utter_scheduling_july",
    "utter_scheduling_august",
    "utter_scheduling_september",
    "utter_scheduling_october",
    "utter_scheduling_november",
    "utter_scheduling_december",
)
# Punctuation only, no words: between two intervals of one day, and between runs of days.
INTERVAL_SEPARATOR = " & "
GROUP_SEPARATOR = ", "


def clock_text(moment: dt.datetime) -> str:
    """The wall-clock time as `HH:MM` (data, the same in every language)."""
    return f"{moment:%H:%M}"


def weekday_name(weekday: int, slots: Slots = None) -> str:
    """The name of weekday `weekday` (0 is Monday) in the conversation's language."""
    return get_responses().text(WEEKDAY_RESPONSES[weekday], slots)


def date_text(day: dt.date, slots: Slots = None) -> str:
    """A calendar date in words, e.g. `Tuesday 14 May`."""
    return get_responses().text("utter_scheduling_date", slots, **_date_values(day, slots))


def date_time_text(moment: dt.datetime, slots: Slots = None) -> str:
    """A moment (already in the business zone) in words, e.g. `Tuesday 14 May at 15:00`."""
    values = _date_values(moment.date(), slots)
    return get_responses().text("utter_scheduling_date_time", slots, time=clock_text(moment), **values)


def opening_hours_text(hours: BusinessHours, slots: Slots = None) -> str:
    """The weekly opening hours in words, e.g. `Monday–Friday 09:00–18:00, Saturday 09:00–13:00`."""
    groups = []
    for first, last, intervals in hours.opening_groups():
        times = INTERVAL_SEPARATOR.join(_interval_text(interval, slots) for interval in intervals)
        if first == last:
            groups.append(get_responses().text("utter_scheduling_hours_day", slots, day=weekday_name(first, slots),
                                               intervals=times))
        else:
            groups.append(get_responses().text(
                "utter_scheduling_hours_days", slots,
                first_day=weekday_name(first, slots), last_day=weekday_name(last, slots), intervals=times,
            ))
    return GROUP_SEPARATOR.join(groups)


def _interval_text(interval: OpeningInterval, slots: Slots) -> str:
    opens, closes = (f"{minute // 60:02d}:{minute % 60:02d}" for minute in (interval.start, interval.end))
    return get_responses().text("utter_scheduling_hours_interval", slots, opens=opens, closes=closes)


def _date_values(day: dt.date, slots: Slots) -> Mapping[str, Any]:
    return {
        "weekday": weekday_name(day.weekday(), slots),
        "day": day.day,
        "month": get_responses().text(MONTH_RESPONSES[day.month - 1], slots),
    }
