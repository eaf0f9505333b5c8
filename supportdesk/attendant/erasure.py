"""A customer's right to be forgotten (`DELETE /customers/{id}`, admins only): everything kept about them, erased.

The steps run in an order that leaves nothing half-visible and keeps a failure retryable:

1. The conversation is leased to the erasure, so no turn starts meanwhile; a turn in progress
   finishes first (its replica holds the lease).
2. Rasa's tracker goes through Rasa's tracker store, on the dialogue loop, under the conversation's
   lock (the way turns use it); until step 3 commits, the customer is still known, so a retry works.
3. Our tables, in one transaction that locks the conversation row first: delivery statuses of the
   messages sent to them, outbox and inbox rows, stream events, handoff requests, appointments,
   pushes in `push_log`, the lease, and the conversation row itself.
4. Stored media files (`MEDIA_STORAGE_URL`): their keys are read in step 3's transaction, which
   deletes their `media_files` rows; the files go after the commit (`erase_media`). A file left
   by a failure is removed by the media retention sweep; a row pointing to a deleted file would not be.

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
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

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
    ("media_files", "conversation_id = ?"),
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


def erase_rows(database: Database, conversation_id: str, media_keys: Optional[List[str]] = None) -> Dict[str, int]:
    """Delete the customer's rows of every table in one transaction; rows deleted per table.

    The storage keys of the media files whose rows go are appended to `media_keys`.
    """
    counts: Dict[str, int] = {}
    with database.transaction() as cursor:
        # Writers that lock the conversation (attendant replies) wait, then find it gone.
        cursor.execute(f"SELECT id FROM conversations WHERE id = ?{database.for_update}", (conversation_id,))
        if media_keys is not None:
            found = cursor.execute(
                "SELECT storage_key FROM media_files WHERE conversation_id = ? AND storage_key IS NOT NULL",
                (conversation_id,),
            ).fetchall()
            media_keys.extend(row["storage_key"] for row in found)
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


def erase_media(store: Optional[Any], keys: Sequence[str]) -> int:
    """Delete the customer's stored media files (`store`: the runtime's media store); the number deleted.

    Called after `erase_rows` committed; a file that cannot be deleted now is logged and left to
    the media retention sweep.
    """
    deleted = 0
    for key in keys if store is not None else ():
        try:
            store.delete(key)
            deleted += 1
        except Exception as error:
            logger.warning("customer.media_erase_failed", extra={"error": type(error).__name__})
    return deleted


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
    media_store: Optional[Any] = None,
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
        media_keys: List[str] = []
        rows = await database.run(erase_rows, database, conversation_id, media_keys)  # the lease row goes too
    except BaseException:
        with contextlib.suppress(Exception):  # turns may go on (else the lease lapses); a retry starts over
            await database.run(release_lease, database, conversation_id, owner)
        raise
    media_files = await asyncio.to_thread(erase_media, media_store, media_keys)
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
