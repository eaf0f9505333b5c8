"""Internal notes: what attendants write about a conversation for each other, never for the customer.

Notes live in their own table, never in the Rasa tracker, so the assistant's AI answers (built
from the tracker alone) never see them; summaries and drafts read them from here. The history
shows them as `sender: "note"` among the other messages, in time order.
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any, Dict, List, Mapping, Optional, Sequence

from supportdesk.messaging import stream_events
from supportdesk.messaging.history import DEFAULT_PAGE_SIZE, HistoryPage, messages_from_events, page, with_pending
from supportdesk.platform.database import Database
from supportdesk.platform.timestamps import iso_time

NOTE = "note"
NOTE_ID_PREFIX = "note-"
MAX_NOTE_CHARS = 4096


class UnknownConversation(LookupError):
    """No conversation with that id."""


def note_message(row: Mapping[str, Any]) -> Dict[str, Any]:
    """A stored note as a history message."""
    return {
        "id": f"{NOTE_ID_PREFIX}{int(row['id'])}",
        "conversation_id": row["conversation_id"],
        "sender": NOTE,
        "text": row["text"],
        "timestamp": iso_time(float(row["created_at"])),
        "attendant_id": row["attendant_id"],
    }


def add_note(database: Database, conversation_id: str, attendant_id: str, text: str, now: float) -> Dict[str, Any]:
    """Store a note and announce it on the stream (one transaction); returns it as a message."""
    with database.transaction() as cursor:
        if cursor.execute("SELECT id FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
            raise UnknownConversation(conversation_id)
        cursor.execute(
            "INSERT INTO conversation_notes (conversation_id, attendant_id, text, created_at) VALUES (?, ?, ?, ?)",
            (conversation_id, attendant_id, text, now),
        )
        row = cursor.execute(
            "SELECT id, conversation_id, attendant_id, text, created_at FROM conversation_notes "
            "WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        ).fetchone()
        message = note_message(row)
        stream_events.publish(cursor, stream_events.MESSAGE_CREATED, message, conversation_id)
    return message


def notes_of(database: Database, conversation_id: str, since: Optional[float] = None) -> List[Dict[str, Any]]:
    """The conversation's notes as history messages, oldest first (those after `since` when given)."""
    rows = database.execute(
        "SELECT id, conversation_id, attendant_id, text, created_at FROM conversation_notes "
        "WHERE conversation_id = ? AND created_at >= ? ORDER BY created_at, id",
        (conversation_id, since or 0.0),
    )
    return [note_message(row) for row in rows]


def _moment(message: Mapping[str, Any]) -> float:
    stamp = message.get("timestamp")
    if not stamp:
        return 0.0
    return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def with_notes(messages: List[Dict[str, Any]], notes: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """`messages` with `notes` placed in time order (a note goes after messages of the same instant)."""
    if not notes:
        return messages
    merged = list(messages)
    moments = [_moment(message) for message in merged]
    for note in sorted(notes, key=_moment):
        moment = _moment(note)
        place = bisect.bisect_right(moments, moment)
        merged.insert(place, note)
        moments.insert(place, moment)
    return merged


def history_page_with_notes(
    conversation_id: str,
    events: Sequence[Mapping[str, Any]],
    pending: Sequence[Mapping[str, Any]],
    notes: Sequence[Dict[str, Any]],
    limit: int = DEFAULT_PAGE_SIZE,
    before: Optional[str] = None,
    after: Optional[str] = None,
) -> HistoryPage:
    """One page of the history: tracker events, pending outbox rows and notes merged, then paged (in a thread)."""
    messages = with_pending(conversation_id, messages_from_events(conversation_id, events), pending)
    return page(with_notes(messages, notes), limit, before, after)
