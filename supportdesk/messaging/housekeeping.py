"""Periodic housekeeping: forget finished records that nobody reads any more, so tables stop growing.

- Stream events older than a day (`stream_events.RETENTION_SECONDS`): a stream resuming from an
  older `Last-Event-ID` reloads the lists instead. Ids are never reused (AUTOINCREMENT, BIGSERIAL).
- Inbox rows that are finished (`done`, `skipped`, or parked `failed`) and were received more than
  `INBOX_RETENTION_DAYS` ago. A pending row is never touched, so ordering and retries are unchanged.
  The row is also the wamid's dedupe key: once it is gone, a copy of that message would be taken
  as new. Meta redelivers for at most 7 days, so settings refuse a retention under 8 days.
- Push log entries older than `PUSH_LOG_RETENTION_DAYS` (a record of pushes made, never re-read).
- Whatever `also` purges (the media files past `MEDIA_RETENTION_DAYS`, wired by the caller).

Every replica runs the loop; the deletes are idempotent, in small batches of their own transactions
so webhooks storing meanwhile never wait long for the write lock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Callable, Dict, Optional

from supportdesk.messaging import stream_events
from supportdesk.platform.database import Database
from supportdesk.platform.settings import Settings

logger = logging.getLogger(__name__)

PERIOD_SECONDS = 3600.0  # the tables grow by hours, not seconds; one pass an hour keeps them bounded
BATCH_SIZE = 1000
DAY_SECONDS = 24 * 3600
FINISHED_INBOX_STATES = ("done", "skipped", "failed")


@dataclasses.dataclass(frozen=True)
class Retention:
    """How long finished records are kept, in days."""

    inbox_days: int
    push_log_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        """`INBOX_RETENTION_DAYS` and `PUSH_LOG_RETENTION_DAYS`."""
        return cls(settings.inbox_retention_days, settings.push_log_retention_days)


@dataclasses.dataclass(frozen=True)
class PurgeCounts:
    """How many rows one pass deleted, per table."""

    stream_events: int = 0
    inbox_messages: int = 0
    push_log: int = 0


def purge(database: Database, now: float, retention: Retention, batch_size: int = BATCH_SIZE) -> PurgeCounts:
    """Delete what has outlived its retention at `now`; returns the counts."""
    finished = ", ".join("?" for _ in FINISHED_INBOX_STATES)
    return PurgeCounts(
        stream_events=_delete(
            database, "stream_events", "created_at < ?", (now - stream_events.RETENTION_SECONDS,), batch_size
        ),
        inbox_messages=_delete(
            database,
            "inbox_messages",
            f"state IN ({finished}) AND received_at < ?",
            (*FINISHED_INBOX_STATES, now - retention.inbox_days * DAY_SECONDS),
            batch_size,
        ),
        push_log=_delete(database, "push_log", "created_at < ?", (now - retention.push_log_days * DAY_SECONDS,), batch_size),
    )


def _delete(database: Database, table: str, where: str, params: tuple, batch_size: int) -> int:
    """Delete the matching rows of `table`, oldest ids first, `batch_size` per transaction."""
    deleted = 0
    while True:
        with database.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {where} ORDER BY id LIMIT ?)",
                (*params, batch_size),
            )
            count = cursor.rowcount
        deleted += count
        if count < batch_size:
            return deleted


async def run_housekeeping_loop(
    database: Database,
    retention: Retention,
    period_seconds: float = PERIOD_SECONDS,
    clock: Callable[[], float] = time.time,
    also: Optional[Callable[[float], Dict[str, int]]] = None,
) -> None:
    """Purge now and then every `period_seconds` until cancelled; failures are logged and retried next time.

    `also(now)` runs after each pass in a worker thread and returns its own counts (media retention).
    """
    while True:
        try:
            now = clock()
            counts = dataclasses.asdict(await database.run(purge, database, now, retention))
            counts.update(await asyncio.to_thread(also, now) if also is not None else {})
            if any(counts.values()):
                logger.info("housekeeping.purged", extra=counts)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("housekeeping.failed")
        await asyncio.sleep(period_seconds)
