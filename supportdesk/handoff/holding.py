"""What a waiting customer is told, honest about the business hours (`BUSINESS_HOURS`).

In hours: the queue ahead of them. Out of hours: when the team is back, and that what they leave
here is read first; never "finding someone" while nobody is at work. Only response names and
values are chosen here; the words are responses in `domain/handoff.yml`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Mapping, Optional, Tuple

from supportdesk.platform.settings import Settings
from supportdesk.scheduling.business_hours import (
    REOPENS_TODAY,
    REOPENS_TOMORROW,
    BusinessHours,
    parse_business_hours,
)
from supportdesk.scheduling.wording import clock_text, weekday_name

MINUTES_PER_WAITING_CUSTOMER = 3  # a rough expectation, said as "about N minutes"
OUTSIDE_HOURS_RESPONSES = {
    REOPENS_TODAY: "utter_handoff_outside_hours_today",
    REOPENS_TOMORROW: "utter_handoff_outside_hours_tomorrow",
}
OUTSIDE_HOURS_DEFAULT = "utter_handoff_outside_hours"  # back on another weekday: {opening_day}
STILL_QUEUED = "utter_handoff_still_queued"  # the customer asks again while waiting, in hours
STILL_WAITING = "utter_handoff_still_waiting"  # the claim timeout, in hours only

Response = Tuple[str, Dict[str, Any]]


def business_hours_of(settings: Settings) -> BusinessHours:
    """The configured opening hours (parsed once per spec)."""
    return parse_business_hours(settings.business_hours, settings.business_timezone)


def moment_of(timestamp: float) -> dt.datetime:
    """A UNIX time as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)


def reopens_at(hours: BusinessHours, timestamp: float) -> Optional[float]:
    """When the team is next at work, as a UNIX time; None while open now."""
    moment = moment_of(timestamp)
    if hours.is_open(moment):
        return None
    return hours.next_opening(moment).timestamp()


def holding_response(customers_ahead: int) -> Response:
    """The in-hours holding message's response and values, from the queue in front of the customer."""
    if customers_ahead <= 1:
        return "utter_handoff_queued_soon", {}
    return "utter_handoff_queued", {"wait_minutes": customers_ahead * MINUTES_PER_WAITING_CUSTOMER}


def outside_hours_response(hours: BusinessHours, now: dt.datetime, slots: Optional[Mapping[str, Any]] = None) -> Response:
    """The offline message: the team is back later today, tomorrow, or on a weekday (in the customer's words)."""
    opening, when = hours.reopening(now)
    values: Dict[str, Any] = {"opening_time": clock_text(opening)}
    if when in OUTSIDE_HOURS_RESPONSES:
        return OUTSIDE_HOURS_RESPONSES[when], values
    return OUTSIDE_HOURS_DEFAULT, {**values, "opening_day": weekday_name(opening.weekday(), slots)}


def reminder_response(hours: BusinessHours, now: dt.datetime, slots: Optional[Mapping[str, Any]] = None) -> Response:
    """What a customer already waiting hears when they ask again: the queue in hours, the reopening out of them."""
    if hours.is_open(now):
        return STILL_QUEUED, {}
    return outside_hours_response(hours, now, slots)
