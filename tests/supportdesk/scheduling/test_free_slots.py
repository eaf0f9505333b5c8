"""Free hours offered when a customer names a day without an hour."""

import datetime as dt

from supportdesk.platform.database import Database
from supportdesk.scheduling.appointments import answer_request, create_request
from supportdesk.scheduling.business_hours import parse_business_hours
from supportdesk.scheduling.free_slots import free_slots, part_of_day, taken_starts

HOURS = parse_business_hours("mon-fri 09:00-18:00; sat 09:30-13:00", "UTC")
MONDAY_10 = dt.datetime(2024, 5, 13, 10, 0, tzinfo=dt.timezone.utc)
TUESDAY = dt.date(2024, 5, 14)


def _hours(slots):
    return [f"{slot:%H:%M}" for slot in slots]


def test_every_hour_that_fits_before_closing_and_none_already_gone():
    assert _hours(free_slots(TUESDAY, HOURS, MONDAY_10, set())) == [f"{hour:02d}:00" for hour in range(9, 18)]
    assert _hours(free_slots(MONDAY_10.date(), HOURS, MONDAY_10, set())) == [f"{hour:02d}:00" for hour in range(11, 18)]
    assert _hours(free_slots(dt.date(2024, 5, 18), HOURS, MONDAY_10, set())) == ["10:00", "11:00", "12:00"]
    assert free_slots(dt.date(2024, 5, 19), HOURS, MONDAY_10, set()) == []


def test_the_part_of_the_day_and_taken_hours_narrow_the_offer():
    taken = {dt.datetime(2024, 5, 14, 10, tzinfo=dt.timezone.utc).timestamp()}
    assert _hours(free_slots(TUESDAY, HOURS, MONDAY_10, taken, "morning")) == ["09:00", "11:00"]
    assert _hours(free_slots(TUESDAY, HOURS, MONDAY_10, set(), "afternoon")) == [f"{h}:00" for h in range(12, 18)]
    assert free_slots(TUESDAY, HOURS, MONDAY_10, set(), "evening") == []
    assert [part_of_day(text) for text in ("à tarde", "de manhã", "monday morning", "tonight", "friday")] == [
        "afternoon", "morning", "morning", "evening", None,
    ]


def test_standing_requests_are_taken_and_declined_ones_free(database: Database):
    ten, eleven = (dt.datetime(2024, 5, 14, hour, tzinfo=dt.timezone.utc).timestamp() for hour in (10, 11))
    create_request(database, "447700900123", ten, "Tue 10:00", None, None)
    declined = create_request(database, "447700900124", eleven, "Tue 11:00", None, None)
    answer_request(database, declined.id, "declined", "ana")
    start = dt.datetime(2024, 5, 14, tzinfo=dt.timezone.utc).timestamp()
    assert taken_starts(database, start, start + 86400) == [ten]
