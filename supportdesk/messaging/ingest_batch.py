"""Group commit for webhook deliveries: concurrent POSTs are stored in one transaction, then answered.

Each delivery must be committed before its 200, and writes to one database serialize (SQLite has
one writer; on PostgreSQL each commit waits for its WAL flush). Under load the acknowledgement
was the queue of those commits: at 50 concurrent senders, 50 transactions one after the other.
Here the deliveries that arrive while a transaction is being written wait for the next one, so
one commit answers them all, and the dialogue workers are woken once per commit that stored a new
message (on PostgreSQL a wake-up is a `NOTIFY` round trip). A failed batch is retried one delivery
at a time, so one bad delivery never fails the others; a database outage fails each (503, Meta retries).
"""

from __future__ import annotations

import asyncio
from typing import Callable, List, Optional, Sequence, Tuple

from supportdesk.messaging import inbox
from supportdesk.platform.database import Database
from supportdesk.whatsapp.payload import WebhookDelivery

MAX_BATCH = 200  # deliveries in one transaction at most

_Pending = Tuple[WebhookDelivery, float, "asyncio.Future[inbox.StoredDelivery]"]


class DeliveryBatcher:
    """Stores deliveries for the callers on one event loop, one transaction per batch."""

    def __init__(self, database: Database, on_new_messages: Callable[[], None], max_batch: int = MAX_BATCH) -> None:
        self._database = database
        self._on_new_messages = on_new_messages
        self._max_batch = max_batch
        self._pending: List[_Pending] = []
        self._writer: Optional[asyncio.Task] = None

    async def store(self, delivery: WebhookDelivery, received_at: float) -> inbox.StoredDelivery:
        """Store `delivery` (committed when this returns); raises what storing it raised."""
        future: asyncio.Future[inbox.StoredDelivery] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, received_at, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                stored = await self._database.run(
                    inbox.store_deliveries, self._database, [(delivery, at) for delivery, at, _ in batch]
                )
            except Exception as error:
                if len(batch) == 1:
                    _fail(batch[0][2], error)
                else:
                    await self._write_each(batch)
                continue
            self._wake_if_new(stored)
            for (_, _, future), result in zip(batch, stored):
                if not future.done():
                    future.set_result(result)

    async def _write_each(self, batch: List[_Pending]) -> None:
        """One transaction per delivery: each caller gets its own result or error."""
        for delivery, at, future in batch:
            try:
                result = await self._database.run(inbox.store_delivery, self._database, delivery, at)
            except Exception as error:
                _fail(future, error)
                continue
            self._wake_if_new([result])
            if not future.done():
                future.set_result(result)

    def _wake_if_new(self, stored: Sequence[inbox.StoredDelivery]) -> None:
        if any(result.new_wamids for result in stored):
            self._on_new_messages()


def _fail(future: asyncio.Future, error: Exception) -> None:
    if not future.done():
        future.set_exception(error)
