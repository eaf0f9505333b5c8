"""Sends queued replies through the Graph API: in order per customer, paced, retried when transient.

This is the send boundary: a bot reply is dropped here (state `suppressed`, kept for the
record) while a person holds the conversation, and free-form text is not attempted once the
24-hour customer-service window is closed (state `failed`, reason `window_closed`).
Sends are paced per business number and per customer (`send_pacing`); a message that must wait,
or that Meta refused with 130429 or 131056, goes back in line without using up an attempt.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Callable, Optional

from supportdesk.messaging import outbox
from supportdesk.messaging.conversations import load_conversation
from supportdesk.messaging.send_pacing import SendPacer
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.settings import get_settings
from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.graph_errors import (
    AuthorizationError,
    GraphApiError,
    PairRateLimitError,
    ThroughputLimitError,
)

logger = logging.getLogger(__name__)

# Only `human` silences the assistant (`waiting` keeps answering). What the customer is owed from the turn
# that asked for a person still goes out when an attendant claims before it is sent: the order's
# acknowledgement and the holding messages `action_request_handoff` may send (supportdesk.handoff.holding).
HANDOFF_NOTICES = frozenset(
    {
        "utter_order_received",
        "utter_handoff_queued",
        "utter_handoff_queued_soon",
        "utter_handoff_still_queued",
        "utter_handoff_outside_hours",
        "utter_handoff_outside_hours_today",
        "utter_handoff_outside_hours_tomorrow",
    }
)
DEFAULT_SEND_LEASE_SECONDS = 35.0  # longer than one Graph call with its timeout (2 × timeout + 5 s)
BATCH_SIZE = 32


class OutboxSender:
    """Background loop that delivers outbox rows; `wake()` after queueing for low latency."""

    def __init__(
        self,
        database: Database,
        graph: Optional[GraphApiClient],
        policy: RetryPolicy,
        owner: str,
        poll_seconds: float = 0.5,
        rng: Callable[[], float] = random.random,
        lease_seconds: float = DEFAULT_SEND_LEASE_SECONDS,
        pacer: Optional[SendPacer] = None,
    ) -> None:
        self._database = database
        self._graph = graph
        self._policy = policy
        self._owner = owner
        self._poll_seconds = poll_seconds
        self._rng = rng
        self._lease_seconds = lease_seconds
        self._pacer = pacer or SendPacer.from_settings(get_settings(), policy, rng)
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        """Finish the current batch and end `run()`."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        """Deliver due rows until stopped; database outages are waited out."""
        while not self._stopping:
            self._wakeup.clear()
            try:
                sent = await self.send_due_once()
            except Exception:
                logger.exception("outbox.loop.failed")
                sent = 0
            if sent == 0 and not self._stopping:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)
                except asyncio.TimeoutError:
                    pass

    async def send_due_once(self) -> int:
        """Claim and deliver one batch of due rows; returns how many were handled."""
        rows = await self._database.run(outbox.claim_due, self._database, self._owner, self._lease_seconds, BATCH_SIZE)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def _deliver(self, row: outbox.OutboxRow) -> None:
        conversation = await self._database.run(load_conversation, self._database, row.conversation_id)
        if row.origin == "bot" and conversation and conversation.bot_is_silent and row.response_name not in HANDOFF_NOTICES:
            await self._finish(row, "suppressed", reason=f"conversation_{conversation.status}")
            return
        template = row.message.get("type") == "template"  # the one kind WhatsApp delivers outside the window
        if conversation is None or not (template or conversation.window_open()):
            await self._finish(row, "failed", reason="window_closed")
            logger.warning("whatsapp.reply.window_closed", extra={"outbox_id": row.id})
            return
        if self._graph is None:
            logger.info(
                "whatsapp.reply.logged",
                extra={"outbox_id": row.id, "recipient": mask_phone(row.conversation_id), "kind": row.message.get("type")},
            )
            await self._finish(row, "logged")
            return
        await self._send(row)

    async def _send(self, row: outbox.OutboxRow) -> None:
        wait = self._pacer.reserve(row.conversation_id)
        if wait > 0:  # not this message's turn yet: back in line, the customer's later ones behind it
            logger.debug("whatsapp.reply.paced", extra={"outbox_id": row.id, "delay_seconds": round(wait, 3)})
            await self._put_back(row, wait, None)
            return
        try:
            wamid = await self._graph.send_message(
                row.conversation_id, row.message, reply_to=None, callback_data=f"outbox:{row.id}"
            )
        except GraphApiError as error:
            await self._handle_error(row, error)
            return
        except ValueError as error:  # a message the Graph API would refuse (limits): never resend it unchanged
            logger.error("whatsapp.reply.invalid", extra={"outbox_id": row.id, "error": str(error)[:200]})
            await self._finish(row, "failed", reason="invalid_request")
            return
        self._pacer.sent(row.conversation_id)
        await self._finish(row, "sent", wamid=wamid)

    async def _handle_error(self, row: outbox.OutboxRow, error: GraphApiError) -> None:
        if isinstance(error, (PairRateLimitError, ThroughputLimitError)):
            await self._back_off(row, error)
            return
        if isinstance(error, AuthorizationError):
            # Keep the queue until an operator replaces the token; the client logged it loudly.
            await self._database.run(
                outbox.retry_later, self._database, row.id, self._policy.cap_seconds, error.reason
            )
            return
        if error.transient and self._policy.may_retry(row.attempts):
            delay = self._policy.delay(row.attempts, self._rng)
            logger.warning(
                "whatsapp.reply.retrying",
                extra={"outbox_id": row.id, "code": error.code, "attempt": row.attempts, "delay_seconds": round(delay, 2)},
            )
            await self._database.run(outbox.retry_later, self._database, row.id, delay, error.reason)
            return
        logger.error(
            "whatsapp.reply.failed",
            extra={"outbox_id": row.id, "code": error.code, "reason": error.reason, "fbtrace_id": error.fbtrace_id},
        )
        await self._finish(row, "failed", reason=error.reason, code=error.code, fbtrace_id=error.fbtrace_id)

    async def _back_off(self, row: outbox.OutboxRow, error: GraphApiError) -> None:
        """Meta's rate limits: pause the customer (131056) or the whole number (130429); no attempt is spent."""
        if isinstance(error, PairRateLimitError):
            delay = self._pacer.customer_throttled(row.conversation_id)
        else:
            delay = self._pacer.number_throttled()
        logger.warning(
            "whatsapp.reply.rate_limited",
            extra={
                "outbox_id": row.id, "code": error.code, "recipient": mask_phone(row.conversation_id),
                "delay_seconds": round(delay, 2), "fbtrace_id": error.fbtrace_id,
            },
        )
        await self._put_back(row, delay, error.reason)

    async def _put_back(self, row: outbox.OutboxRow, delay: float, reason: Optional[str]) -> None:
        await self._database.run(outbox.retry_later, self._database, row.id, delay, reason, False)  # not an attempt

    async def _finish(self, row: outbox.OutboxRow, state: str, **fields: object) -> None:
        await self._database.run(lambda: outbox.finish(self._database, row.id, state, **fields))
