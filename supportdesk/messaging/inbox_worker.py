"""Background loop that hands stored inbound messages to the dialogue, one conversation at a time.

Conversations are leased in the database, so any number of replicas can run this loop;
a conversation's messages are processed in order and different conversations in parallel.
Rows not finished by a crashed replica become claimable again when its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable, Set

from supportdesk.messaging import inbox
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone

logger = logging.getLogger(__name__)

LEASE_SECONDS = 15.0  # how long a dead replica's conversations stay blocked; renewed while alive
HEARTBEAT_SECONDS = LEASE_SECONDS / 3
MAX_CONVERSATIONS = 16  # conversations processed at once by one replica


class InboxWorker:
    """Claims conversations with pending messages and processes their rows in order."""

    def __init__(
        self,
        database: Database,
        process: Callable[[inbox.InboxRow], Awaitable[None]],
        owner: str,
        max_conversations: int = MAX_CONVERSATIONS,
        poll_seconds: float = 0.5,
    ) -> None:
        self._database = database
        self._process = process
        self._owner = owner
        self._max_conversations = max_conversations
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._tasks: Set[asyncio.Task] = set()
        self._active: Set[str] = set()  # conversations this worker is processing now

    def wake(self) -> None:
        """Look for pending messages now instead of at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Claim and process conversations until `stop()`."""
        while not self._stopping:
            self._wakeup.clear()
            free = self._max_conversations - len(self._tasks)
            claimed = []
            if free > 0:
                try:
                    claimed = await self._database.run(
                        inbox.claim_conversations, self._database, self._owner, LEASE_SECONDS, free
                    )
                except Exception:
                    logger.exception("inbox.claim.failed")
            for conversation_id in claimed:
                if conversation_id in self._active:
                    continue
                self._active.add(conversation_id)
                task = asyncio.create_task(self._work_on(conversation_id))
                self._tasks.add(task)
                task.add_done_callback(self._task_done)
            if not claimed and not self._stopping:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)
                except asyncio.TimeoutError:
                    pass

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        self._wakeup.set()

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming, let conversations in progress finish (or hand them back), then return."""
        self._stopping = True
        self._wakeup.set()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _keep_lease(self, conversation_id: str) -> None:
        """Renew the lease while a turn runs (a slow AI answer must not let another replica in)."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._database.run(
                    inbox.acquire_lease, self._database, conversation_id, self._owner, LEASE_SECONDS, time.time()
                )
            except Exception:
                logger.warning("inbox.lease.renew_failed", extra={"conversation": mask_phone(conversation_id)})

    async def _work_on(self, conversation_id: str) -> None:
        heartbeat = asyncio.create_task(self._keep_lease(conversation_id))
        released = False
        try:
            rows = await self._database.run(inbox.pending_rows, self._database, conversation_id)
            while rows and not self._stopping and await self._process_in_order(rows):
                # the next messages, or (none left) the lease given back, in one transaction
                rows = await self._database.run(inbox.pending_rows_or_release, self._database, conversation_id, self._owner)
                released = not rows
        except Exception:
            logger.exception("inbox.conversation.failed", extra={"conversation": mask_phone(conversation_id)})
        finally:
            heartbeat.cancel()
            self._active.discard(conversation_id)
            if not released:
                try:
                    await self._database.run(inbox.release_lease, self._database, conversation_id, self._owner)
                except Exception:
                    logger.warning("inbox.lease.release_failed", extra={"conversation": mask_phone(conversation_id)})

    async def _process_in_order(self, rows: list) -> bool:
        """Process rows in order; False when one failed (later rows wait for its retry)."""
        for row in rows:  # the lease is ours from the claim on, renewed by `_keep_lease` (no write per message)
            if self._stopping:
                return False
            try:
                await self._process(row)
            except Exception as error:
                parked = await self._database.run(inbox.record_failure, self._database, row.wamid, repr(error))
                logger.error(
                    "inbox.message.failed",
                    exc_info=True,
                    extra={"wamid": row.wamid, "attempt": row.attempts + 1, "parked": parked},
                )
                if not parked:
                    return False
        return True

