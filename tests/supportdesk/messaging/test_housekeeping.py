"""Housekeeping forgets old stream events, finished inbox rows and the push log; nothing else."""

import asyncio
import time

import pytest

from supportdesk.messaging import housekeeping
from supportdesk.messaging.housekeeping import PurgeCounts, Retention, purge, run_housekeeping_loop
from supportdesk.messaging.inbox import mark_done, store_delivery
from supportdesk.platform.database import Database
from supportdesk.whatsapp.payload import parse_webhook
from tests.fixture_files import fixture_bytes

NOW = 1_800_000_000.0
DAY = 24 * 3600
RETENTION = Retention(inbox_days=30, push_log_days=10)


def _event(database: Database, created_at: float) -> None:
    database.execute(
        "INSERT INTO stream_events (event, conversation_id, data, created_at) VALUES ('message.created', 'c', '{}', ?)",
        (created_at,),
    )


def _inbox(database: Database, wamid: str, state: str, received_at: float) -> None:
    database.execute(
        """INSERT INTO inbox_messages (wamid, conversation_id, kind, sent_at, received_at, payload, state)
           VALUES (?, 'c', 'text', 1, ?, '{}', ?)""",
        (wamid, received_at, state),
    )


def _push(database: Database, created_at: float) -> None:
    database.execute(
        "INSERT INTO push_log (kind, conversation_id, state, created_at) VALUES ('handoff', 'c', 'sent', ?)",
        (created_at,),
    )


def _column(database: Database, sql: str) -> list:
    return [next(iter(row.values())) for row in database.execute(sql)]


def test_only_what_outlived_its_retention_is_deleted(database: Database) -> None:
    _event(database, NOW - DAY - 1)
    _event(database, NOW - DAY)
    _event(database, NOW - 60)
    inbox_cutoff = NOW - 30 * DAY
    for state in ("done", "skipped", "failed", "pending"):
        _inbox(database, f"wamid.old.{state}", state, inbox_cutoff - 1)
    _inbox(database, "wamid.recent.done", "done", inbox_cutoff)
    _push(database, NOW - 10 * DAY - 1)
    _push(database, NOW - 10 * DAY)

    assert purge(database, NOW, RETENTION) == PurgeCounts(stream_events=1, inbox_messages=3, push_log=1)

    assert _column(database, "SELECT created_at FROM stream_events ORDER BY id") == [NOW - DAY, NOW - 60]
    assert _column(database, "SELECT wamid FROM inbox_messages ORDER BY id") == ["wamid.old.pending", "wamid.recent.done"]
    assert _column(database, "SELECT created_at FROM push_log") == [NOW - 10 * DAY]
    assert purge(database, NOW, RETENTION) == PurgeCounts()


def test_deletes_go_in_batches_until_none_is_left(database: Database) -> None:
    for number in range(5):
        _event(database, NOW - 2 * DAY + number)
        _push(database, NOW - 20 * DAY)
    assert purge(database, NOW, RETENTION, batch_size=2) == PurgeCounts(stream_events=5, push_log=5)
    assert database.execute("SELECT COUNT(*) AS n FROM stream_events") == [{"n": 0}]


def test_a_redelivery_within_metas_seven_days_stays_a_duplicate(database: Database) -> None:
    delivery = parse_webhook(fixture_bytes("inbound_text.json"))
    [wamid] = store_delivery(database, delivery, now=NOW).new_wamids
    with database.transaction() as cursor:
        mark_done(cursor, wamid, NOW)
    shortest = Retention(inbox_days=8, push_log_days=0)  # the least settings allow
    assert purge(database, NOW + 7 * DAY, shortest) == PurgeCounts()
    again = store_delivery(database, delivery, now=NOW + 7 * DAY)
    assert (again.new_wamids, again.duplicates) == ([], 1)
    assert purge(database, NOW + 8 * DAY + 1, shortest) == PurgeCounts(inbox_messages=1)


async def test_the_loop_purges_at_once_and_stops_when_cancelled(database: Database) -> None:
    _event(database, NOW - 2 * DAY)
    _push(database, NOW - 11 * DAY)
    task = asyncio.create_task(run_housekeeping_loop(database, RETENTION, period_seconds=3600, clock=lambda: NOW))
    deadline = time.monotonic() + 10
    while database.execute("SELECT COUNT(*) AS n FROM push_log") != [{"n": 0}]:
        assert time.monotonic() < deadline, "the first pass did not run"
        await asyncio.sleep(0.01)
    assert database.execute("SELECT COUNT(*) AS n FROM stream_events") == [{"n": 0}]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_retention_comes_from_the_settings() -> None:
    from supportdesk.platform.settings import Settings

    settings = Settings(inbox_retention_days=45, push_log_retention_days=7)
    assert Retention.from_settings(settings) == Retention(inbox_days=45, push_log_days=7)
    assert housekeeping.FINISHED_INBOX_STATES == ("done", "skipped", "failed")
