"""Appointment reminders: due hours ahead, sent once across replicas and restarts, by window and opt-out."""

import asyncio
import json

import pytest

from supportdesk.handoff.desk import AttendantDesk
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.platform.database import Database
from supportdesk.platform.schema import migrate
from supportdesk.scheduling import appointments
from supportdesk.scheduling.reminders import ReminderSender, schedule_reminder
from supportdesk.whatsapp.templates import Template

CUSTOMER = "5511987654321"
START = 1_800_000_000.0
HOUR = 3600.0
REMINDER_TEMPLATE = Template(
    "appointment_reminder", "en_US", "UTILITY",
    "Hi {{1}}, this is a reminder of your appointment on {{2}}. Reply CHANGE to move it or CANCEL to cancel.", 2,
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Catalog:
    """The approved templates, without Graph."""

    async def named(self, name, language):
        return REMINDER_TEMPLATE if name == REMINDER_TEMPLATE.name else None


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    """SQLite, and PostgreSQL when TEST_POSTGRES_URL is set (the compare-and-set under real concurrency)."""
    url = f"sqlite:///{tmp_path / 'reminders.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    db = Database(url)
    migrate(db)
    yield db
    db.close()


def replica(database, clock, template=REMINDER_TEMPLATE.name) -> ReminderSender:
    """One replica's reminder sender (a restart is a new one over the same database)."""
    desk = AttendantDesk(database, HandoffTimeouts(), lambda: None, lambda: None, clock=clock)
    return ReminderSender(desk, Catalog(), template, lambda: None, clock=clock)


def confirmed_appointment(database, clock, wrote_hours_ago: float, starts_in_hours: float = 48) -> int:
    database.execute(
        "INSERT INTO conversations (id, customer_name, last_inbound_at, created_at, updated_at) VALUES (?, 'Kerry', ?, ?, ?)",
        (CUSTOMER, clock.now - wrote_hours_ago * HOUR, clock.now, clock.now),
    )
    request = appointments.create_request(database, CUSTOMER, clock.now + starts_in_hours * HOUR, "Nov 26 at 9:00 AM", None, None)
    appointments.answer_request(database, request.id, "confirmed", "ana")
    schedule_reminder(database, request.id, 24, clock.now)
    return request.id


def queued(database):
    return [json.loads(row["message"]) for row in database.execute("SELECT message FROM outbox_messages ORDER BY id")]


async def test_a_reminder_is_sent_once_across_two_replicas_and_a_restart(database):
    clock = Clock()
    confirmed_appointment(database, clock, wrote_hours_ago=1, starts_in_hours=30)  # due in 6 h, inside the window
    first, second = replica(database, clock), replica(database, clock)
    clock.now += 6 * HOUR - 1
    assert await first.run_due() + await second.run_due() == 0
    restarted = replica(database, clock)  # the due time is in the database, not in a replica's memory
    clock.now += 1
    assert sum(await asyncio.gather(first.run_due(), second.run_due(), restarted.run_due())) == 1
    assert await replica(database, clock).run_due() == 0
    [reminder] = queued(database)
    assert reminder["type"] == "text"
    assert reminder["text"]["body"].startswith("Reminder: your appointment is on Nov 26 at 9:00 AM.")


async def test_outside_the_window_the_reminder_is_the_template(database):
    clock = Clock()
    confirmed_appointment(database, clock, wrote_hours_ago=0)
    clock.now += 24 * HOUR  # the customer's last message is now 24 h old
    assert await replica(database, clock).run_due() == 1
    [reminder] = queued(database)
    assert reminder == REMINDER_TEMPLATE.message(["Kerry", "Nov 26 at 9:00 AM"])


@pytest.mark.parametrize("opted_out, template", [(True, REMINDER_TEMPLATE.name), (False, None)])
async def test_no_reminder_when_opted_out_or_outside_the_window_without_a_template(database, opted_out, template):
    clock = Clock()
    confirmed_appointment(database, clock, wrote_hours_ago=0)
    database.execute("UPDATE conversations SET opted_out = ?", (int(opted_out),))
    clock.now += 24 * HOUR
    assert await replica(database, clock, template).run_due() == 1  # taken, and so never tried again
    assert queued(database) == []


def test_an_appointment_sooner_than_the_lead_time_is_reminded_at_once_and_a_past_one_never(database):
    clock = Clock()
    appointment_id = confirmed_appointment(database, clock, wrote_hours_ago=1, starts_in_hours=3)
    assert database.execute("SELECT reminder_at FROM appointments") == [{"reminder_at": clock.now}]
    assert schedule_reminder(database, appointment_id, 24, clock.now + 4 * HOUR) is None
