"""The durable outbox: every reply to a customer is a row before it is a Graph API call.

A bot reply remembers the inbound message it answers (`answers_wamid`, `seq`), unique
together, so processing a message twice never queues its replies twice. Rows of one
conversation are sent strictly in order; delivery statuses only move forward.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import List, Optional, Sequence, Tuple

from supportdesk.platform.database import Cursor, Database
from supportdesk.whatsapp.payload import StatusUpdate, delivery_state, states_before

FINAL_STATES = ("sent", "delivered", "read", "failed", "suppressed", "logged")


# Rasa records its own replies in the tracker; these are written there by the next turn (tracker_bridge).
ORIGINS_NOT_FROM_RASA = ("attendant", "system")


@dataclasses.dataclass(frozen=True)
class OutboxDraft:
    """A reply to queue: a Graph message object (without `to`) and where it comes from."""

    conversation_id: str
    message: dict
    origin: str  # "bot", "attendant" or "system"
    preview: str = ""
    answers_wamid: Optional[str] = None
    seq: int = 0
    attendant_id: Optional[str] = None
    response_name: Optional[str] = None
    numbered_choices: Optional[Tuple[str, ...]] = None


@dataclasses.dataclass(frozen=True)
class OutboxRow:
    """A queued reply as the sender sees it."""

    id: int
    conversation_id: str
    origin: str
    response_name: Optional[str]
    message: dict
    attempts: int
    answers_wamid: Optional[str]


def enqueue(cursor: Cursor, drafts: Sequence[OutboxDraft], now: float) -> List[int]:
    """Insert drafts (inside the caller's transaction); returns ids of rows really inserted."""
    ids: List[int] = []
    for draft in drafts:
        cursor.execute(
            """INSERT INTO outbox_messages (conversation_id, answers_wamid, seq, origin, attendant_id, response_name,
                   message, preview, numbered_choices, next_attempt_at, created_at, updated_at, in_tracker)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (answers_wamid, seq) DO NOTHING RETURNING id""",
            (
                draft.conversation_id,
                draft.answers_wamid,
                draft.seq,
                draft.origin,
                draft.attendant_id,
                draft.response_name,
                json.dumps(draft.message, ensure_ascii=False),
                draft.preview[:200],
                json.dumps(list(draft.numbered_choices)) if draft.numbered_choices else None,
                now,
                now,
                now,
                0 if draft.origin in ORIGINS_NOT_FROM_RASA else 1,
            ),
        )
        row = cursor.fetchone()
        if row:
            ids.append(int(row["id"]))
    return ids


def claim_due(database: Database, owner: str, lease_seconds: float, limit: int) -> List[OutboxRow]:
    """Lease due rows that are first in line in their conversation (order is kept per customer)."""
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            """UPDATE outbox_messages SET state = 'pending', lease_owner = NULL
               WHERE state = 'sending' AND lease_until < ?""",
            (now,),
        )
        candidates = cursor.execute(
            """SELECT o.id FROM outbox_messages o
               WHERE o.state = 'pending' AND o.next_attempt_at <= ?
                 AND NOT EXISTS (SELECT 1 FROM outbox_messages p WHERE p.conversation_id = o.conversation_id
                                 AND p.id < o.id AND p.state IN ('pending', 'sending'))
               ORDER BY o.id LIMIT ?""",
            (now, limit),
        ).fetchall()
        claimed: List[OutboxRow] = []
        for candidate in candidates:
            cursor.execute(
                """UPDATE outbox_messages SET state = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1
                   WHERE id = ? AND state = 'pending'""",
                (owner, now + lease_seconds, candidate["id"]),
            )
            if cursor.rowcount != 1:
                continue
            row = cursor.execute(
                """SELECT id, conversation_id, origin, response_name, message, attempts, answers_wamid
                   FROM outbox_messages WHERE id = ?""",
                (candidate["id"],),
            ).fetchone()
            claimed.append(OutboxRow(**{**row, "message": json.loads(row["message"])}))
    return claimed


def finish(
    database: Database,
    outbox_id: int,
    state: str,
    *,
    wamid: Optional[str] = None,
    reason: Optional[str] = None,
    code: Optional[int] = None,
    fbtrace_id: Optional[str] = None,
) -> None:
    """Record the final outcome of a send (`sent`, `failed`, `suppressed` or `logged`)."""
    with database.transaction() as cursor:
        cursor.execute(
            """UPDATE outbox_messages SET state = ?, wamid = COALESCE(?, wamid), failure_reason = ?, failure_code = ?,
                   fbtrace_id = ?, lease_owner = NULL, updated_at = ? WHERE id = ?""",
            (state, wamid, reason, code, fbtrace_id, time.time(), outbox_id),
        )
        publish_status(cursor, "id = ?", (outbox_id,))


def message_id_of(outbox_id: int) -> str:
    """The attendant API's message id of a queued attendant or system message."""
    return f"out-{outbox_id}"


def publish_status(cursor: Cursor, where: str, params: tuple) -> None:
    """Tell attendant streams the delivery state of the attendant/system messages matching `where`."""
    from supportdesk.messaging import stream_events

    rows = cursor.execute(
        f"""SELECT id, conversation_id, state, failure_reason FROM outbox_messages
            WHERE {where} AND origin IN ('attendant', 'system')""",
        params,
    ).fetchall()
    for row in rows:
        stream_events.publish(
            cursor,
            stream_events.MESSAGE_STATUS,
            {
                "id": message_id_of(row["id"]),
                "conversation_id": row["conversation_id"],
                "status": row["state"],
                "reason": row["failure_reason"],
            },
            row["conversation_id"],
        )


def retry_later(
    database: Database, outbox_id: int, delay_seconds: float, reason: Optional[str], count_attempt: bool = True
) -> None:
    """Put a row back in line after a transient failure; `count_attempt=False` (paced, rate-limited) gives its attempt back."""
    now = time.time()
    database.execute(
        """UPDATE outbox_messages SET state = 'pending', next_attempt_at = ?, failure_reason = COALESCE(?, failure_reason),
               attempts = attempts - ?, lease_owner = NULL, updated_at = ? WHERE id = ?""",
        (now + delay_seconds, reason, 0 if count_attempt else 1, now, outbox_id),
    )


def apply_delivery_status(cursor: Cursor, status: StatusUpdate, now: float) -> bool:
    """Record a status webhook once per (wamid, status) and move the reply's state forward only."""
    error = status.errors[0] if status.errors else None
    cursor.execute(
        """INSERT INTO delivery_statuses (wamid, status, status_at, error_code, received_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (wamid, status) DO NOTHING""",
        (status.wamid, status.status, status.timestamp, error.code if error else None, now),
    )
    if cursor.rowcount != 1:
        return False
    if status.status == "failed":
        cursor.execute(
            """UPDATE outbox_messages SET state = 'failed', failure_code = ?, failure_reason = ?, updated_at = ?
               WHERE wamid = ?""",
            (error.code if error else None, _failure_reason(error.code if error else None), now, status.wamid),
        )
        if error and error.code == 131047:
            cursor.execute(
                """UPDATE conversations SET window_closed = 1, updated_at = ?
                   WHERE id = (SELECT conversation_id FROM outbox_messages WHERE wamid = ?)""",
                (now, status.wamid),
            )
        publish_status(cursor, "wamid = ?", (status.wamid,))
        return True
    lower_states = states_before(status.status)
    if lower_states:
        placeholders = ", ".join("?" for _ in lower_states)
        cursor.execute(
            f"UPDATE outbox_messages SET state = ?, updated_at = ? WHERE wamid = ? AND state IN ({placeholders})",
            (delivery_state(status.status), now, status.wamid, *lower_states),
        )
        if cursor.rowcount:
            publish_status(cursor, "wamid = ?", (status.wamid,))
    return True


def _failure_reason(code: Optional[int]) -> str:
    from supportdesk.whatsapp.graph_errors import error_from_code

    return error_from_code(code).reason if code is not None else "failed"
