"""A conversation beyond one exchange: a template that reopens it, resolve, satisfaction, opt-out.

Each operation is one transaction over the conversation row (locked on PostgreSQL), its outbox
rows and its stream events, like the handoff transitions in `state`.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Dict, Optional

from supportdesk.handoff.state import HandoffTimeouts, close_open_request, record_attendant_reply, take_over
from supportdesk.messaging import outbox, stream_events
from supportdesk.messaging.conversations import COLUMNS, Conversation, conversation_from_row, publish_conversation
from supportdesk.platform.database import Cursor, Database
from supportdesk.platform.timestamps import iso_time

SATISFACTION_SCORES = (1, 3, 5)  # the reply buttons (unhappy, neutral, happy) on the usual 1-5 CSAT scale


class Refused(enum.Enum):
    """Why a lifecycle operation did not happen."""

    NOT_FOUND = "not_found"
    HELD_BY_OTHER = "held_by_other"
    OPTED_OUT = "opted_out"


class LifecycleRefused(Exception):
    """The operation was refused; `reason` says why."""

    def __init__(self, reason: Refused) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class TemplateDraft:
    """A template to queue: the Graph message object and the text the customer will read."""

    message: Dict[str, Any]
    text: str


def _locked_row(database: Database, cursor: Cursor, conversation_id: str) -> Dict[str, Any]:
    row = cursor.execute(f"SELECT {COLUMNS} FROM conversations WHERE id = ?" + database.for_update, (conversation_id,))
    found = row.fetchone()
    if found is None:
        raise LifecycleRefused(Refused.NOT_FOUND)
    return found


def send_template(
    database: Database,
    conversation_id: str,
    attendant_id: str,
    draft: TemplateDraft,
    timeouts: HandoffTimeouts,
    now: float,
) -> Dict[str, Any]:
    """Queue the template and give the conversation to the caller (`human`); returns the message."""
    with database.transaction() as cursor:
        row = _locked_row(database, cursor, conversation_id)
        if row["opted_out"]:
            raise LifecycleRefused(Refused.OPTED_OUT)
        if row["status"] in ("human",) and row["assigned_to"] != attendant_id:
            raise LifecycleRefused(Refused.HELD_BY_OTHER)
        if row["status"] != "human":
            take_over(cursor, conversation_id, attendant_id, timeouts, now, ("bot", "waiting", "closed"))
            publish_conversation(cursor, conversation_id)
        queued = outbox.OutboxDraft(conversation_id, draft.message, "attendant", preview=draft.text, attendant_id=attendant_id)
        [outbox_id] = outbox.enqueue(cursor, [queued], now)
        record_attendant_reply(cursor, conversation_id, timeouts, now)
        message = {
            "id": outbox.message_id_of(outbox_id),
            "conversation_id": conversation_id,
            "sender": "attendant",
            "type": "template",
            "text": draft.text,
            "timestamp": iso_time(now),
            "attendant_id": attendant_id,
            "status": "pending",
            "status_reason": None,
        }
        stream_events.publish(cursor, stream_events.MESSAGE_CREATED, message, conversation_id)
    return message


def resolve(
    database: Database, conversation_id: str, attendant_id: str, is_admin: bool, ask: bool, now: float
) -> Conversation:
    """Close the conversation (`closed`); with `ask`, open a satisfaction question for its answer."""
    with database.transaction() as cursor:
        row = _locked_row(database, cursor, conversation_id)
        if row["status"] == "human" and row["assigned_to"] != attendant_id and not is_admin:
            raise LifecycleRefused(Refused.HELD_BY_OTHER)
        if row["status"] == "closed":
            return conversation_from_row(row)
        resolver = row["assigned_to"] or attendant_id
        cursor.execute(
            """UPDATE conversations SET status = 'closed', resolved_at = ?, waiting_since = NULL,
                   claim_reminder_at = NULL, give_up_at = NULL, idle_reminder_at = NULL, missed_at = NULL,
                   version = version + 1, updated_at = ?
               WHERE id = ?""",
            (now, now, conversation_id),
        )
        close_open_request(cursor, conversation_id, "resolved", now, attendant_id)
        if ask:
            cursor.execute(
                "INSERT INTO satisfaction (conversation_id, attendant_id, asked_at) VALUES (?, ?, ?)",
                (conversation_id, resolver, now),
            )
        return publish_conversation(cursor, conversation_id)


def record_satisfaction(database: Database, conversation_id: str, score: int, now: float) -> bool:
    """Record the answer to the last open question of the conversation; False when none was open."""
    if score not in SATISFACTION_SCORES:
        raise ValueError(f"score must be one of {SATISFACTION_SCORES}")
    with database.transaction() as cursor:
        open_question = cursor.execute(
            "SELECT id FROM satisfaction WHERE conversation_id = ? AND answered_at IS NULL ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        ).fetchone()
        if open_question is None:
            return False
        cursor.execute(
            "UPDATE satisfaction SET score = ?, answered_at = ? WHERE id = ? AND answered_at IS NULL",
            (score, now, open_question["id"]),
        )
        return cursor.rowcount == 1


def satisfaction_summary(database: Database, since: float) -> Dict[str, Optional[float]]:
    """How many questions were answered since `since`, and their average score (None without answers)."""
    row = database.execute(
        "SELECT COUNT(score) AS answered, AVG(score) AS average FROM satisfaction WHERE answered_at >= ?", (since,)
    )[0]
    average = row["average"]
    return {"answered": int(row["answered"] or 0), "average": round(float(average), 2) if average is not None else None}


def set_opted_out(database: Database, conversation_id: str, opted_out: bool, now: float) -> Optional[Conversation]:
    """Mark (or clear) the customer's opt-out; returns the conversation when it changed, else None."""
    with database.transaction() as cursor:
        cursor.execute(
            """UPDATE conversations SET opted_out = ?, version = version + 1, updated_at = ?
               WHERE id = ? AND opted_out = ?""",
            (int(opted_out), now, conversation_id, int(not opted_out)),
        )
        if cursor.rowcount != 1:
            return None
        return publish_conversation(cursor, conversation_id)


def send_template_notice(database: Database, conversation_id: str, draft: TemplateDraft, now: float) -> Optional[str]:
    """Queue a template the service sends on its own (reminder, appointment update); None when opted out."""
    with database.transaction() as cursor:
        row = _locked_row(database, cursor, conversation_id)
        if row["opted_out"]:
            return None
        queued = outbox.OutboxDraft(conversation_id, draft.message, "system", preview=draft.text)
        [outbox_id] = outbox.enqueue(cursor, [queued], now)
        message = {
            "id": outbox.message_id_of(outbox_id), "conversation_id": conversation_id, "sender": "bot",
            "type": "template", "text": draft.text, "timestamp": iso_time(now), "attendant_id": None,
            "status": "pending", "status_reason": None,
        }
        stream_events.publish(cursor, stream_events.MESSAGE_CREATED, message, conversation_id)
    return message["id"]
