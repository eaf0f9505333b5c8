"""A customer's right to be forgotten (`DELETE /customers/{id}`, admins only): everything kept about them, erased.

The steps run in an order that leaves nothing half-visible and keeps a failure retryable:

1. The conversation is leased to the erasure, so no turn starts meanwhile; a turn in progress
   finishes first (its replica holds the lease).
2. Rasa's tracker goes through Rasa's tracker store, on the dialogue loop, under the conversation's
   lock (the way turns use it); until step 3 commits, the customer is still known, so a retry works.
3. Our tables, in one transaction that locks the conversation row first: delivery statuses of the
   messages sent to them, outbox and inbox rows, stream events, handoff requests, appointments,
   pushes in `push_log`, the lease, and the conversation row itself.
4. Stored media files, through `erase_media` (a hook: no media is kept yet).

Afterwards `GET /conversations/{id}` is 404 and the customer's next message starts a fresh
conversation and tracker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore

from supportdesk.messaging.inbox import acquire_lease, release_lease
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone

logger = logging.getLogger(__name__)

# (table, rows of the customer) in deletion order: statuses are found through the outbox rows they belong to.
ERASED_ROWS: Tuple[Tuple[str, str], ...] = (
    ("delivery_statuses", "wamid IN (SELECT wamid FROM outbox_messages WHERE conversation_id = ? AND wamid IS NOT NULL)"),
    ("outbox_messages", "conversation_id = ?"),
    ("inbox_messages", "conversation_id = ?"),
    ("stream_events", "conversation_id = ?"),
    ("handoff_requests", "conversation_id = ?"),
    ("appointments", "conversation_id = ?"),
    ("satisfaction", "conversation_id = ?"),
    ("conversation_notes", "conversation_id = ?"),
    ("push_log", "conversation_id = ?"),
    ("conversation_leases", "conversation_id = ?"),
    ("conversations", "id = ?"),
)
# A turn holds its lease for at most a slow AI answer plus a send; a dead replica's lease lapses in 15 s.
BUSY_WAIT_SECONDS = 30.0
BUSY_POLL_SECONDS = 0.25
ERASURE_LEASE_SECONDS = 60.0  # far longer than the erasure; released at once if it fails


class UnknownCustomer(Exception):
    """Nothing is kept about this id: no conversation and no stored message."""


class CustomerBusy(Exception):
    """A turn of this customer kept its lease past the wait; retry shortly."""


class AssistantUnavailable(Exception):
    """Rasa's Agent (and so its tracker store) is not loaded yet; retry shortly."""


@dataclasses.dataclass(frozen=True)
class Erasure:
    """What was erased: rows per table, tracker events, media files."""

    rows: Dict[str, int]
    tracker_events: int
    media_files: int


def is_known(database: Database, conversation_id: str) -> bool:
    """True when a conversation or a stored message exists for this id."""
    rows = database.execute(
        "SELECT 1 AS found FROM conversations WHERE id = ? UNION ALL "
        "SELECT 1 AS found FROM inbox_messages WHERE conversation_id = ? LIMIT 1",
        (conversation_id, conversation_id),
    )
    return bool(rows)


def erase_rows(database: Database, conversation_id: str) -> Dict[str, int]:
    """Delete the customer's rows of every table in one transaction; rows deleted per table."""
    counts: Dict[str, int] = {}
    with database.transaction() as cursor:
        # Writers that lock the conversation (attendant replies) wait, then find it gone.
        cursor.execute(f"SELECT id FROM conversations WHERE id = ?{database.for_update}", (conversation_id,))
        for table, where in ERASED_ROWS:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", (conversation_id,))
            counts[table] = max(cursor.rowcount, 0)
    return counts


def forget_tracker(store: Any, conversation_id: str) -> int:
    """Delete the customer's tracker from Rasa's tracker store; the number of events (or trackers) deleted."""
    while hasattr(store, "_tracker_store"):  # Rasa's AwaitableTrackerStore and FailSafeTrackerStore wrap the real one
        store = store._tracker_store
    if isinstance(store, SQLTrackerStore):
        with store.session_scope() as session:  # the store's own engine and session
            deleted = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == conversation_id).delete(
                synchronize_session=False
            )
            session.commit()
        return int(deleted)
    if isinstance(store, InMemoryTrackerStore):
        return 1 if store.store.pop(conversation_id, None) is not None else 0
    raise TypeError(f"erasing a tracker from {type(store).__name__} is not supported")


async def erase_tracker(agent: Any, conversation_id: str) -> int:
    """Forget the tracker under the conversation's lock (run it on the dialogue loop, like every tracker use)."""
    async with agent.lock_store.lock(conversation_id):
        return forget_tracker(agent.tracker_store, conversation_id)


def erase_media(conversation_id: str) -> int:
    """Delete the customer's stored media files; the number deleted.

    Hook: no media is stored yet. When media is kept (`MEDIA_STORAGE_URL`, a media table with a
    `conversation_id` column), collect the file keys in `erase_rows`' transaction, delete the rows
    there, and delete the files here, after the commit (a file left by a failure is retried by the
    next erasure, while a row pointing to a deleted file would not be).
    """
    return 0


async def _take_conversation(database: Database, conversation_id: str, owner: str, wait_seconds: float) -> None:
    """Lease the conversation to the erasure, waiting for a turn in progress; CustomerBusy past the wait."""
    deadline = time.monotonic() + wait_seconds
    while not await database.run(acquire_lease, database, conversation_id, owner, ERASURE_LEASE_SECONDS, time.time(), False):
        if time.monotonic() >= deadline:
            raise CustomerBusy(conversation_id)
        await asyncio.sleep(BUSY_POLL_SECONDS)


async def erase_customer(
    database: Database,
    run_on_dialogue: Callable[[Awaitable[Any]], Awaitable[Any]],
    agent: Optional[Any],
    conversation_id: str,
    erased_by: str,
    wait_seconds: float = BUSY_WAIT_SECONDS,
) -> Erasure:
    """Erase everything kept about one customer (see the module docstring); UnknownCustomer when nothing is."""
    if not await database.run(is_known, database, conversation_id):
        raise UnknownCustomer(conversation_id)
    if agent is None:
        raise AssistantUnavailable(conversation_id)
    owner = f"erasure-{uuid.uuid4().hex[:12]}"
    await _take_conversation(database, conversation_id, owner, wait_seconds)
    try:
        tracker_events = await run_on_dialogue(erase_tracker(agent, conversation_id))
        rows = await database.run(erase_rows, database, conversation_id)  # the lease row goes with them
    except BaseException:
        with contextlib.suppress(Exception):  # turns may go on (else the lease lapses); a retry starts over
            await database.run(release_lease, database, conversation_id, owner)
        raise
    media_files = erase_media(conversation_id)
    logger.info(
        "customer.erased",
        extra={
            "customer": mask_phone(conversation_id),
            "erased_by": erased_by,
            "rows": sum(rows.values()),
            "tracker_events": tracker_events,
            "media_files": media_files,
        },
    )
    return Erasure(rows, tracker_events, media_files)
