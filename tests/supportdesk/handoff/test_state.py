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


def test_a_wait_that_runs_out_stays_visible_as_missed_until_a_person_follows_it_up(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, "asked for a person", TIMEOUTS, T0)
    [gave_up] = [t for t in handoff.take_due_timers(database, TIMEOUTS, T0 + 1800) if t.kind is TimerKind.GIVE_UP]
    assert (gave_up.conversation.status, gave_up.conversation.missed_at) == ("bot", T0 + 1800)
    assert gave_up.conversation.to_json()["missed_at"] == "2027-01-15T08:30:00.000Z"
    assert handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, T0 + 2000).changed
    assert load_conversation(database, CUSTOMER).missed_at is None


def test_a_missed_request_is_followed_up_by_an_answer_or_a_new_request(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    handoff.take_due_timers(database, TIMEOUTS, T0 + 1800)
    with database.transaction() as cursor:
        assert handoff.follow_up(cursor, CUSTOMER, T0 + 1900)
        assert not handoff.follow_up(cursor, CUSTOMER, T0 + 1901)  # nothing left to follow up
    assert load_conversation(database, CUSTOMER).missed_at is None
    handoff.take_due_timers(database, TIMEOUTS, T0 + 9999)
    database.execute("UPDATE conversations SET missed_at = ? WHERE id = ?", (T0, CUSTOMER))
    assert handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0 + 10_000).conversation.missed_at is None


def test_out_of_hours_timers_restart_at_the_opening_and_tell_the_customer_once(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    opening = T0 + 50_000
    closed = handoff.take_due_timers(database, TIMEOUTS, T0 + 1800, reopens_at=opening)
    assert [timer.kind for timer in closed] == [TimerKind.CLOSED]  # the give-up and reminder due together: one notice
    row = database.execute("SELECT status, claim_reminder_at, give_up_at, missed_at FROM conversations")[0]
    assert dict(row) == {"status": "waiting", "claim_reminder_at": opening + 300, "give_up_at": opening + 1800,
                         "missed_at": None}
    assert handoff.take_due_timers(database, TIMEOUTS, opening + 299, reopens_at=None) == []
    assert [t.kind for t in handoff.take_due_timers(database, TIMEOUTS, opening + 300)] == [TimerKind.CLAIM_REMINDER]


def test_an_idle_reminder_out_of_hours_waits_for_the_opening(database):
    migrated(database)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0)
    handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, T0)
    assert handoff.take_due_timers(database, TIMEOUTS, T0 + 600, reopens_at=T0 + 9000) == []
    assert database.execute("SELECT idle_reminder_at FROM conversations")[0]["idle_reminder_at"] == T0 + 9600


def test_a_request_out_of_hours_counts_its_timers_from_the_opening(database):
    migrated(database)
    queued = handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, T0, reopens_at=T0 + 7200)
    assert queued.changed and queued.conversation.status == "waiting"
    row = database.execute("SELECT waiting_since, claim_reminder_at, give_up_at FROM conversations")[0]
    assert dict(row) == {"waiting_since": T0, "claim_reminder_at": T0 + 7500, "give_up_at": T0 + 9000}
