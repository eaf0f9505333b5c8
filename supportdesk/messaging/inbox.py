"""The durable inbox: every inbound WhatsApp message stored once (unique wamid) before 200.

Rows are processed one conversation at a time: a worker first takes a lease on the
conversation in the database, so two replicas never work on one customer at once, and
rows are handed out in the customer's order (message timestamp, then arrival).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from typing import Callable, List, Optional, Sequence, Tuple

from supportdesk.platform.database import Cursor, Database
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.whatsapp.payload import InboundMessage, MessageKind, WebhookDelivery, parse_webhook

logger = logging.getLogger(__name__)

# A failing message waits about 2, 4, 8, 16 s (jittered) between tries; after 5 it is parked as `failed`.
PROCESSING_RETRY = RetryPolicy(max_attempts=5, base_seconds=2.0, cap_seconds=60.0)
_NOT_CONVERSATION_TURNS = (MessageKind.REACTION, MessageKind.SYSTEM)


@dataclasses.dataclass(frozen=True)
class StoredDelivery:
    """What one webhook POST changed: new message wamids, duplicates ignored, statuses seen."""

    new_wamids: Sequence[str]
    duplicates: int
    statuses: int


@dataclasses.dataclass(frozen=True)
class InboxRow:
    """A stored inbound message waiting for (or done with) processing."""

    id: int
    wamid: str
    conversation_id: str
    attempts: int
    message: InboundMessage
    received_at: Optional[float] = None


def _envelope(message: InboundMessage) -> str:
    """A one-message webhook body, so a stored row is re-read by the one parser."""
    contact = {"profile": {"name": message.profile_name}} if message.profile_name else {}
    if message.wa_id:
        contact["wa_id"] = message.wa_id
    if message.bsuid:
        contact["user_id"] = message.bsuid
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": message.phone_number_id},
        "contacts": [contact] if contact else [],
        "messages": [message.raw],
    }
    body = {"object": "whatsapp_business_account", "entry": [{"id": "", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _insert_message(cursor: Cursor, message: InboundMessage, now: float) -> bool:
    cursor.execute(
        """INSERT INTO inbox_messages (wamid, conversation_id, phone_number_id, kind, sent_at, received_at, payload)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wamid) DO NOTHING""",
        (
            message.wamid,
            message.customer_id,
            message.phone_number_id,
            message.type,
            message.timestamp,
            now,
            _envelope(message),
        ),
    )
    return cursor.rowcount == 1


def _touch_conversation(cursor: Cursor, message: InboundMessage, now: float) -> None:
    """Create or refresh the conversation a customer message belongs to."""
    cursor.execute(
        """INSERT INTO conversations (id, bsuid, customer_name, last_inbound_at, last_message_at,
                                      last_message_preview, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET
               bsuid = COALESCE(excluded.bsuid, conversations.bsuid),
               customer_name = COALESCE(excluded.customer_name, conversations.customer_name),
               last_inbound_at = CASE WHEN conversations.last_inbound_at IS NULL
                   OR excluded.last_inbound_at > conversations.last_inbound_at
                   THEN excluded.last_inbound_at ELSE conversations.last_inbound_at END,
               last_message_at = excluded.last_message_at,
               last_message_preview = excluded.last_message_preview,
               window_closed = 0,
               updated_at = excluded.updated_at""",
        (
            message.customer_id,
            message.bsuid,
            message.profile_name,
            float(message.timestamp),
            now,
            message.preview,
            now,
            now,
        ),
    )
    _reopen_if_closed(cursor, message.customer_id, now)


def _reopen_if_closed(cursor: Cursor, conversation_id: str, now: float) -> None:
    """A resolved (`closed`) conversation is the assistant's again when the customer writes."""
    from supportdesk.messaging import stream_events
    from supportdesk.messaging.conversations import COLUMNS, conversation_from_row

    cursor.execute(
        """UPDATE conversations SET status = 'bot', assigned_to = NULL, assigned_at = NULL,
               version = version + 1, updated_at = ? WHERE id = ? AND status = 'closed'""",
        (now, conversation_id),
    )
    if cursor.rowcount == 1:
        row = cursor.execute(f"SELECT {COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        data = conversation_from_row(row).to_json()
        stream_events.publish(cursor, stream_events.CONVERSATION_UPDATED, data, conversation_id)


def store_delivery(database: Database, delivery: WebhookDelivery, now: Optional[float] = None) -> StoredDelivery:
    """Store every message and status of one webhook POST in one transaction."""
    now = time.time() if now is None else now
    with database.transaction() as cursor:
        return _store(cursor, delivery, now)


def store_deliveries(database: Database, deliveries: Sequence[Tuple[WebhookDelivery, float]]) -> List[StoredDelivery]:
    """Store several webhook POSTs (each with its arrival time) in one transaction: one commit for all."""
    with database.transaction() as cursor:
        return [_store(cursor, delivery, now) for delivery, now in deliveries]


def _store(cursor: Cursor, delivery: WebhookDelivery, now: float) -> StoredDelivery:
    from supportdesk.messaging.outbox import apply_delivery_status

    new_wamids: List[str] = []
    for message in delivery.messages:
        if _insert_message(cursor, message, now):
            new_wamids.append(message.wamid)
            if message.kind not in _NOT_CONVERSATION_TURNS:
                _touch_conversation(cursor, message, now)
    for status in delivery.statuses:
        apply_delivery_status(cursor, status, now)
    return StoredDelivery(new_wamids, len(delivery.messages) - len(new_wamids), len(delivery.statuses))


def has_written(database: Database, conversation_id: str) -> bool:
    """True when a message from this customer was stored (`_touch_conversation` set `last_inbound_at`).

    Actions check what they are told against it: a handoff or an appointment only for a customer who
    really wrote. The conversation row outlives the inbox rows' retention, and one indexed read suffices.
    """
    rows = database.execute(
        "SELECT 1 AS found FROM conversations WHERE id = ? AND last_inbound_at IS NOT NULL", (conversation_id,)
    )
    return bool(rows)


def claim_conversations(database: Database, owner: str, lease_seconds: float, limit: int) -> List[str]:
    """Lease up to `limit` conversations that have pending messages; oldest first."""
    now = time.time()
    with database.transaction() as cursor:
        candidates = cursor.execute(
            """SELECT conversation_id, MIN(id) AS first_id FROM inbox_messages WHERE state = 'pending'
               GROUP BY conversation_id HAVING MAX(COALESCE(retry_at, 0)) <= ? ORDER BY first_id LIMIT ?""",
            (now, limit * 4),
        ).fetchall()
    claimed: List[str] = []
    for candidate in candidates:
        if len(claimed) >= limit:
            break
        if acquire_lease(database, candidate["conversation_id"], owner, lease_seconds, now, extend_own=False):
            claimed.append(candidate["conversation_id"])
    return claimed


def acquire_lease(
    database: Database, conversation_id: str, owner: str, lease_seconds: float, now: float, extend_own: bool = True
) -> bool:
    """Take the lease on one conversation (or extend our own); False when someone else holds it.

    With `extend_own=False` a live lease of ours also refuses: a claim must never start a
    second task on a conversation this worker is already processing.
    """
    own_clause = " OR conversation_leases.owner = excluded.owner" if extend_own else ""
    with database.transaction() as cursor:
        cursor.execute(
            f"""INSERT INTO conversation_leases (conversation_id, owner, lease_until) VALUES (?, ?, ?)
               ON CONFLICT (conversation_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
               WHERE conversation_leases.lease_until < ?{own_clause}""",
            (conversation_id, owner, now + lease_seconds, now),
        )
        return cursor.rowcount == 1


def release_lease(database: Database, conversation_id: str, owner: str) -> None:
    """Give a conversation back so any worker may take it."""
    database.execute("DELETE FROM conversation_leases WHERE conversation_id = ? AND owner = ?", (conversation_id, owner))


def pending_rows(database: Database, conversation_id: str, limit: int = 20) -> List[InboxRow]:
    """The conversation's unprocessed messages in the customer's order."""
    rows = database.execute(
        """SELECT id, wamid, conversation_id, attempts, payload, received_at FROM inbox_messages
           WHERE conversation_id = ? AND state = 'pending' ORDER BY sent_at, id LIMIT ?""",
        (conversation_id, limit),
    )
    return [
        InboxRow(
            id=row["id"],
            wamid=row["wamid"],
            conversation_id=row["conversation_id"],
            attempts=row["attempts"],
            message=parse_webhook(row["payload"].encode("utf-8"), received_at=row["received_at"]).messages[0],
            received_at=row["received_at"],
        )
        for row in rows
    ]


def mark_started(database: Database, wamid: str) -> int:
    """Count a processing start; returns how many earlier starts there were (more than 0 after a crash)."""
    with database.transaction() as cursor:
        return count_start(cursor, wamid)


def count_start(cursor: Cursor, wamid: str) -> int:
    """`mark_started` inside the caller's transaction."""
    row = cursor.execute("UPDATE inbox_messages SET starts = starts + 1 WHERE wamid = ? RETURNING starts", (wamid,)).fetchone()
    return int(row["starts"]) - 1 if row else 0


def mark_done(cursor: Cursor, wamid: str, now: float, state: str = "done") -> None:
    """Mark a message processed (inside the transaction that also queues its replies)."""
    cursor.execute(
        "UPDATE inbox_messages SET state = ?, processed_at = ? WHERE wamid = ? AND state = 'pending'",
        (state, now, wamid),
    )


def record_failure(
    database: Database,
    wamid: str,
    error: str,
    now: Optional[float] = None,
    rng: Callable[[], float] = random.random,
) -> bool:
    """Count a failed processing attempt and set its retry time; True when the message is now parked as failed."""
    now = time.time() if now is None else now
    with database.transaction() as cursor:
        row = cursor.execute(
            """UPDATE inbox_messages SET attempts = attempts + 1, last_error = ?,
                   state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE state END
               WHERE wamid = ? RETURNING attempts, state""",
            (error[:500], PROCESSING_RETRY.max_attempts, wamid),
        ).fetchone()
        if row is None:
            return False
        retry_at = now + PROCESSING_RETRY.delay(row["attempts"], rng)
        cursor.execute("UPDATE inbox_messages SET retry_at = ? WHERE wamid = ?", (retry_at, wamid))
    return row["state"] == "failed"
