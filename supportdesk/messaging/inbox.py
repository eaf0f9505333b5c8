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
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from supportdesk.messaging.conversations import publish_conversation
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


_ROWS_PER_STATEMENT = 100  # rows of one multi-row INSERT (7-8 parameters each; SQLite allows 32766)


def _chunks(items: Sequence, size: int = _ROWS_PER_STATEMENT) -> List[Sequence]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _insert_messages(cursor: Cursor, messages: Sequence[Tuple[InboundMessage, float]]) -> Set[str]:
    """Insert every message not stored yet, a hundred per statement; the wamids that were new."""
    inserted: Set[str] = set()
    for chunk in _chunks(messages):
        rows = cursor.execute(
            """INSERT INTO inbox_messages (wamid, conversation_id, phone_number_id, kind, sent_at, received_at, payload)
               VALUES """ + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)) + """
               ON CONFLICT (wamid) DO NOTHING RETURNING wamid""",
            [value for message, now in chunk for value in (
                message.wamid, message.customer_id, message.phone_number_id, message.type, message.timestamp, now,
                _envelope(message),
            )],
        ).fetchall()
        inserted.update(row["wamid"] for row in rows)
    return inserted


def _last_given(values: List[Optional[str]]) -> Optional[str]:
    return next((value for value in reversed(values) if value), None)


def _conversation_row(messages: Sequence[Tuple[InboundMessage, float]]) -> tuple:
    """One conversation's values after its new messages, in order, as one upsert per message would leave them."""
    last, last_now = messages[-1]
    return (
        last.customer_id,
        _last_given([message.bsuid for message, _ in messages]),
        _last_given([message.profile_name for message, _ in messages]),
        max(float(message.timestamp) for message, _ in messages),
        last_now,
        last.preview,
        messages[0][1],
        last_now,
    )


def _touch_conversations(cursor: Cursor, messages: Dict[str, List[Tuple[InboundMessage, float]]], now: float) -> None:
    """Create or refresh the conversations new customer messages belong to; reopen resolved ones."""
    rows = [_conversation_row(of_one) for of_one in messages.values()]
    for chunk in _chunks(rows):
        cursor.execute(
            """INSERT INTO conversations (id, bsuid, customer_name, last_inbound_at, last_message_at,
                                          last_message_preview, created_at, updated_at)
               VALUES """ + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk)) + """
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
            [value for row in chunk for value in row],
        )
    _reopen_if_closed(cursor, list(messages), now)


def _reopen_if_closed(cursor: Cursor, conversation_ids: List[str], now: float) -> None:
    """A resolved (`closed`) conversation is the assistant's again when the customer writes."""
    for chunk in _chunks(conversation_ids):
        marks = ", ".join("?" * len(chunk))
        reopened = cursor.execute(
            f"""UPDATE conversations SET status = 'bot', assigned_to = NULL, assigned_at = NULL,
                    version = version + 1, updated_at = ? WHERE status = 'closed' AND id IN ({marks}) RETURNING id""",
            (now, *chunk),
        ).fetchall()
        for row in reopened:
            publish_conversation(cursor, row["id"])


def store_delivery(database: Database, delivery: WebhookDelivery, now: Optional[float] = None) -> StoredDelivery:
    """Store every message and status of one webhook POST in one transaction."""
    now = time.time() if now is None else now
    return store_deliveries(database, [(delivery, now)])[0]


def store_deliveries(database: Database, deliveries: Sequence[Tuple[WebhookDelivery, float]]) -> List[StoredDelivery]:
    """Store several webhook POSTs (each with its arrival time) in one transaction: one commit for all."""
    with database.transaction() as cursor:
        return _store_all(cursor, deliveries)


def _store_all(cursor: Cursor, deliveries: Sequence[Tuple[WebhookDelivery, float]]) -> List[StoredDelivery]:
    """The messages in a few multi-row statements (a round trip each on PostgreSQL), then the statuses."""
    from supportdesk.messaging.outbox import apply_delivery_status

    inserted = _insert_messages(cursor, [(message, now) for delivery, now in deliveries for message in delivery.messages])
    results: List[StoredDelivery] = []
    turns: Dict[str, List[Tuple[InboundMessage, float]]] = {}
    for delivery, now in deliveries:
        new_wamids: List[str] = []
        for message in delivery.messages:
            if message.wamid in inserted:
                inserted.discard(message.wamid)  # a second copy in the same batch is a duplicate
                new_wamids.append(message.wamid)
                if message.kind not in _NOT_CONVERSATION_TURNS:
                    turns.setdefault(message.customer_id, []).append((message, now))
        results.append(StoredDelivery(new_wamids, len(delivery.messages) - len(new_wamids), len(delivery.statuses)))
    if turns:
        _touch_conversations(cursor, turns, max(now for _, now in deliveries))
    for delivery, now in deliveries:
        for status in delivery.statuses:
            apply_delivery_status(cursor, status, now)
    return results


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
    """Lease up to `limit` conversations that have pending messages; oldest first; one transaction.

    Conversations another worker holds are left out of the candidates; the lease still decides. The
    leases are taken in the candidates' order (their oldest pending message), which only a lease's
    holder can change, so two claims on PostgreSQL wait for each other at most, never in a cycle.
    """
    now = time.time()
    with database.transaction() as cursor:
        candidates = cursor.execute(
            """SELECT m.conversation_id, MIN(m.id) AS first_id FROM inbox_messages m
               LEFT JOIN conversation_leases l ON l.conversation_id = m.conversation_id AND l.lease_until >= ?
               WHERE m.state = 'pending' AND l.conversation_id IS NULL
               GROUP BY m.conversation_id HAVING MAX(COALESCE(m.retry_at, 0)) <= ? ORDER BY first_id LIMIT ?""",
            (now, now, limit * 4),
        ).fetchall()
        claimed: List[str] = []
        for candidate in candidates:
            if len(claimed) >= limit:
                break
            if _take_lease(cursor, candidate["conversation_id"], owner, now + lease_seconds, now, extend_own=False):
                claimed.append(candidate["conversation_id"])
    return claimed


def acquire_lease(
    database: Database, conversation_id: str, owner: str, lease_seconds: float, now: float, extend_own: bool = True
) -> bool:
    """Take the lease on one conversation (or extend our own); False when someone else holds it.

    With `extend_own=False` a live lease of ours also refuses: a claim must never start a
    second task on a conversation this worker is already processing.
    """
    with database.transaction() as cursor:
        return _take_lease(cursor, conversation_id, owner, now + lease_seconds, now, extend_own)


def _take_lease(cursor: Cursor, conversation_id: str, owner: str, until: float, now: float, extend_own: bool) -> bool:
    own_clause = " OR conversation_leases.owner = excluded.owner" if extend_own else ""
    cursor.execute(
        f"""INSERT INTO conversation_leases (conversation_id, owner, lease_until) VALUES (?, ?, ?)
           ON CONFLICT (conversation_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
           WHERE conversation_leases.lease_until < ?{own_clause}""",
        (conversation_id, owner, until, now),
    )
    return cursor.rowcount == 1


def release_lease(database: Database, conversation_id: str, owner: str) -> None:
    """Give a conversation back so any worker may take it."""
    with database.transaction() as cursor:
        _drop_lease(cursor, conversation_id, owner)


def _drop_lease(cursor: Cursor, conversation_id: str, owner: str) -> None:
    cursor.execute("DELETE FROM conversation_leases WHERE conversation_id = ? AND owner = ?", (conversation_id, owner))


def pending_rows(database: Database, conversation_id: str, limit: int = 20) -> List[InboxRow]:
    """The conversation's unprocessed messages in the customer's order."""
    with database.transaction(immediate=False) as cursor:
        return _pending_in(cursor, conversation_id, limit)


def pending_rows_or_release(database: Database, conversation_id: str, owner: str) -> List[InboxRow]:
    """The conversation's next messages; when there are none, our lease is given back in the same transaction.

    A message stored after this transaction finds no lease of ours: its wake-up lets any worker claim it.
    """
    with database.transaction() as cursor:
        rows = _pending_in(cursor, conversation_id)
        if not rows:
            _drop_lease(cursor, conversation_id, owner)
        return rows


def _pending_in(cursor: Cursor, conversation_id: str, limit: int = 20) -> List[InboxRow]:
    rows = cursor.execute(
        """SELECT id, wamid, conversation_id, attempts, payload, received_at FROM inbox_messages
           WHERE conversation_id = ? AND state = 'pending' ORDER BY sent_at, id LIMIT ?""",
        (conversation_id, limit),
    ).fetchall()
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


def mark_started(cursor: Cursor, wamid: str) -> int:
    """Count a processing start; returns how many earlier starts there were (more than 0 after a crash)."""
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
