"""The hours still free on a day, to offer as choices when a customer names a day but no hour.

A slot starts on the hour inside an opening interval and fits in it whole (`SLOT_MINUTES`), lies in the
part of the day the customer named (if any), is at least `min_lead` away, and is not already taken by
a request that is still standing (requested or confirmed). At most `limit` are offered, the earliest.
"""

from __future__ import annotations

import datetime as dt
from typing import Collection, List, Optional

from supportdesk.platform.database import Database
from supportdesk.scheduling.appointment_time import PERIOD_SPANS
from supportdesk.scheduling.business_hours import BusinessHours
from supportdesk.scheduling.time_phrases import PERIOD, PERIOD_KIND, normalise

SLOT_MINUTES = 60
STANDING_STATUSES = ("requested", "confirmed")


def part_of_day(text: str) -> Optional[str]:
    """`morning`, `afternoon` or `evening` when the text names one ("à tarde", "monday morning")."""
    match = PERIOD.search(normalise(text, dt.date.today()))
    return PERIOD_KIND[match["word"]] if match else None


def free_slots(
    day: dt.date,
    hours: BusinessHours,
    now: dt.datetime,
    taken: Collection[float],
    period: Optional[str] = None,
    min_lead: dt.timedelta = dt.timedelta(minutes=30),
    limit: int = 10,
) -> List[dt.datetime]:
    """The free slot starts on `day` (aware, business zone), earliest first."""
    first, last = PERIOD_SPANS[period] if period else (0, 24 * 60)
    earliest = now + min_lead
    slots = []
    for interval in hours.intervals_on(day):
        start = interval.start + (-interval.start) % SLOT_MINUTES  # the first full hour inside
        for minute in range(start, interval.end - SLOT_MINUTES + 1, SLOT_MINUTES):
            if not first <= minute < last:
                continue
            moment = hours.local_datetime(day, minute)
            if moment >= earliest and moment.timestamp() not in taken:
                slots.append(moment)
    return slots[:limit]


def taken_starts(database: Database, day_start: float, day_end: float) -> List[float]:
    """Start times of the standing requests between two moments (epoch seconds)."""
    marks = ", ".join("?" for _ in STANDING_STATUSES)
    rows = database.execute(
        f"SELECT starts_at FROM appointments WHERE starts_at >= ? AND starts_at < ? AND status IN ({marks})",
        (day_start, day_end, *STANDING_STATUSES),
    )
    return [float(row["starts_at"]) for row in rows]
