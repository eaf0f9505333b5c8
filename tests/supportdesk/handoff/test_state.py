"""The handoff state machine on SQLite and PostgreSQL: one winner per race, timers taken once."""

import threading

from supportdesk.handoff import state as handoff
from supportdesk.handoff.state import ClaimRefused, HandoffTimeouts, TimerKind
from supportdesk.messaging import stream_events
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.database import Database
from supportdesk.platform.schema import migrate

CUSTOMER = "447700900123"
TIMEOUTS = HandoffTimeouts(claim_seconds=300, give_up_seconds=1800, idle_reminder_seconds=600)
T0 = 1_800_000_000.0


def migrated(database: Database) -> Database:
    migrate(database)
    return database


def test_request_queues_once_and_records_the_request(database):
    migrated(database)
    first = handoff.request_handoff(database, CUSTOMER, "asked for a person", TIMEOUTS, T0)
    again = handoff.request_handoff(database, CUSTOMER, "asked again", TIMEOUTS, T0 + 5)
    assert first.changed and first.conversation.status == "waiting"
    assert first.conversation.handoff_reason == "asked for a person"
    assert not again.changed and again.conversation.handoff_reason == "asked for a person"
    rows = database.execute("SELECT outcome FROM handoff_requests WHERE conversation_id = ?", (CUSTOMER,))
    assert [row["outcome"] for row in rows] == ["open"]
    events = stream_events.events_after(database, 0)
    assert [(event.event, event.data["status"]) for event in events] == [("conversation.updated", "waiting")]


def test_claim_then_conflict_then_idempotent_reclaim(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    won = handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, T0 + 10)
    lost = handoff.claim(database, CUSTOMER, "bruno", TIMEOUTS, T0 + 11)
    again = handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, T0 + 12)
    assert won.changed and won.conversation.status == "human" and won.conversation.assigned_to == "ana"
    assert lost.refused is ClaimRefused.HELD_BY_OTHER and lost.conversation.assigned_to == "ana"
    assert again.refused is None and not again.changed
    assert handoff.claim(database, "unknown", "ana", TIMEOUTS).refused is ClaimRefused.NOT_FOUND


def test_racing_claims_have_exactly_one_winner(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    results = {}
    barrier = threading.Barrier(8)

    def attempt(name: str) -> None:
        barrier.wait()
        results[name] = handoff.claim(database, CUSTOMER, name, TIMEOUTS)

    threads = [threading.Thread(target=attempt, args=(f"attendant-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [name for name, result in results.items() if result.changed]
    assert len(winners) == 1
    assert load_conversation(database, CUSTOMER).assigned_to == winners[0]
    assert all(result.refused is ClaimRefused.HELD_BY_OTHER for name, result in results.items() if name not in winners)


def test_release_only_by_holder_or_admin(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, T0)
    assert handoff.release(database, CUSTOMER, "bruno", is_admin=False).refused is ClaimRefused.NOT_HELD
    released = handoff.release(database, CUSTOMER, "boss", is_admin=True)
    assert released.changed and released.conversation.status == "bot" and released.conversation.assigned_to is None
    assert handoff.release(database, CUSTOMER, "ana", is_admin=False).refused is ClaimRefused.NOT_HELD
    assert handoff.release(database, "unknown", "ana", is_admin=True).refused is ClaimRefused.NOT_FOUND
    outcome = database.execute("SELECT outcome FROM handoff_requests")[0]["outcome"]
    assert outcome == "claimed"


def test_claim_reminder_then_give_up_each_taken_once(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    assert handoff.take_due_timers(database, TIMEOUTS, T0 + 299) == []
    reminders = handoff.take_due_timers(database, TIMEOUTS, T0 + 300)
    assert [timer.kind for timer in reminders] == [TimerKind.CLAIM_REMINDER]
    assert handoff.take_due_timers(database, TIMEOUTS, T0 + 301) == []  # moved one period on
    assert [t.kind for t in handoff.take_due_timers(database, TIMEOUTS, T0 + 600)] == [TimerKind.CLAIM_REMINDER]
    gave_up = handoff.take_due_timers(database, TIMEOUTS, T0 + 1800)
    assert [timer.kind for timer in gave_up] == [TimerKind.GIVE_UP]
    assert gave_up[0].conversation.status == "bot"
    assert handoff.take_due_timers(database, TIMEOUTS, T0 + 9999) == []
    assert database.execute("SELECT outcome FROM handoff_requests")[0]["outcome"] == "gave_up"


def test_idle_reminder_is_pushed_back_by_a_reply(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, T0)
    with database.transaction() as cursor:
        handoff.record_attendant_reply(cursor, CUSTOMER, TIMEOUTS, T0 + 500)
    assert handoff.take_due_timers(database, TIMEOUTS, T0 + 700) == []
    due = handoff.take_due_timers(database, TIMEOUTS, T0 + 1100)
    assert [(timer.kind, timer.conversation.assigned_to) for timer in due] == [(TimerKind.IDLE_REMINDER, "ana")]


def test_timer_races_have_one_taker(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    taken = []
    barrier = threading.Barrier(4)

    def take() -> None:
        barrier.wait()
        taken.extend(handoff.take_due_timers(database, TIMEOUTS, T0 + 1800))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [timer.kind for timer in taken] == [TimerKind.GIVE_UP]
