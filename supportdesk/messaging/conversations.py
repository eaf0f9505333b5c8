"""Conversation records: who the customer is, who answers them, and their 24-hour window."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Dict, List, Optional

from supportdesk.messaging import stream_events
from supportdesk.platform.database import Cursor, Database
from supportdesk.platform.timestamps import iso_time

CUSTOMER_SERVICE_WINDOW_SECONDS = 24 * 60 * 60
WAITING_SLOT = "handoff_waiting"  # the Rasa slot that mirrors `status == "waiting"` (a greeting gets the reminder)
SILENT_STATUSES = ("human",)  # the assistant sends nothing while a person has the customer; `waiting` keeps answering


@dataclasses.dataclass(frozen=True)
class Conversation:
    """One customer's conversation as stored."""

    id: str
    status: str
    customer_name: Optional[str]
    assigned_to: Optional[str]
    handoff_reason: Optional[str]
    version: int
    last_inbound_at: Optional[float]
    last_message_at: Optional[float]
    last_message_preview: Optional[str]
    window_closed: bool
    waiting_since: Optional[float] = None
    assigned_at: Optional[float] = None
    language: Optional[str] = None  # `en` or `pt-BR`; None until the customer's first message is read
    opted_out: bool = False  # the customer wrote STOP/PARAR: no template or reminder until START/VOLTAR
    summary: Optional[str] = None  # the AI's summary of what a waiting customer needs; None without OpenAI
    missed_at: Optional[float] = None  # a wait for a person ran out unclaimed; None once a person followed it up

    def window_open(self, now: Optional[float] = None) -> bool:
        """True while free-form messages may be sent (24 h since the customer last wrote)."""
        if self.window_closed or self.last_inbound_at is None:
            return False
        now = time.time() if now is None else now
        return now - self.last_inbound_at < CUSTOMER_SERVICE_WINDOW_SECONDS

    @property
    def bot_is_silent(self) -> bool:
        """True while the assistant must not talk to this customer."""
        return self.status in SILENT_STATUSES

    def to_json(self) -> Dict[str, Any]:
        """The conversation as the attendant API shows it."""
        return {
            "id": self.id,
            "customer_name": self.customer_name,
            "status": self.status,
            "assigned_to": self.assigned_to,
            "last_message_at": iso_time(self.last_message_at),
            "last_message_preview": self.last_message_preview,
            "handoff_reason": self.handoff_reason,
            "waiting_since": iso_time(self.waiting_since) if self.status == "waiting" else None,
            "language": self.language,
            "window_open_until": self.window_open_until(),
            "opted_out": self.opted_out,
            "summary": self.summary,
            "missed_at": iso_time(self.missed_at) if self.missed_at is not None else None,
        }

    def window_open_until(self, now: Optional[float] = None) -> Optional[str]:
        """When the 24-hour window closes (ISO), or None while it is closed."""
        if not self.window_open(now):
            return None
        return iso_time(self.last_inbound_at + CUSTOMER_SERVICE_WINDOW_SECONDS)



COLUMNS = (
    "id, status, customer_name, assigned_to, handoff_reason, version, last_inbound_at, last_message_at, "
    "last_message_preview, window_closed, waiting_since, assigned_at, language, opted_out, summary, missed_at"
)


def conversation_from_row(row: Dict[str, Any]) -> Conversation:
    """A `Conversation` from a row selected with `COLUMNS`."""
    return Conversation(**{**row, "window_closed": bool(row["window_closed"]), "opted_out": bool(row["opted_out"])})


def load_conversation(database: Database, conversation_id: str) -> Optional[Conversation]:
    """The stored conversation, or None for an unknown customer."""
    with database.transaction(immediate=False) as cursor:
        return find_conversation(cursor, conversation_id)


def find_conversation(cursor: Cursor, conversation_id: str) -> Optional[Conversation]:
    """The conversation as the caller's transaction sees it, or None for an unknown customer."""
    row = cursor.execute(f"SELECT {COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    return conversation_from_row(row) if row else None


def existing_conversation(cursor: Cursor, conversation_id: str) -> Conversation:
    """The conversation the caller's transaction has just read or changed; LookupError if there is none."""
    conversation = find_conversation(cursor, conversation_id)
    if conversation is None:
        raise LookupError(f"no conversation {conversation_id!r}")
    return conversation


def publish_conversation(cursor: Cursor, conversation_id: str) -> Conversation:
    """Stream `conversation.updated` with the conversation as it is now in the caller's transaction; returns it."""
    conversation = existing_conversation(cursor, conversation_id)
    stream_events.publish(cursor, stream_events.CONVERSATION_UPDATED, conversation.to_json(), conversation_id)
    return conversation


def list_conversations(database: Database, status: Optional[str] = None, limit: int = 200) -> List[Conversation]:
    """Conversations, newest activity first, optionally of one status."""
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = database.execute(
        f"SELECT {COLUMNS} FROM conversations {where} ORDER BY last_message_at DESC, id LIMIT ?",
        (*params, limit),
    )
    return [conversation_from_row(row) for row in rows]
