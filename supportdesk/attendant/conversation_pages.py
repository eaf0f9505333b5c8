"""The conversation list a page at a time: newest activity first, with a cursor to the next page.

The cursor names the last conversation of a page by its sort key (activity time, id), so a
conversation that moves while someone pages is never shown twice in one walk, nor skipped
unless it moved above the cursor (it then shows on the live stream).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Dict, List, Optional, Tuple

from supportdesk.messaging.conversations import COLUMNS, Conversation, conversation_from_row
from supportdesk.platform.database import Database

DEFAULT_LIMIT = 200  # what the list returned before paging existed
MAX_LIMIT = 500
CURSOR_PATTERN = re.compile(r"([0-9]{1,12}(?:\.[0-9]{1,20})?)~(.{1,200})", re.DOTALL)
_ACTIVITY = "COALESCE(last_message_at, 0)"  # one order for NULLs on both databases


class InvalidCursor(ValueError):
    """`before=` is not a cursor this API handed out."""


@dataclasses.dataclass(frozen=True)
class ConversationPage:
    """Some conversations and the cursor to the ones after them (None: no more)."""

    conversations: List[Conversation]
    next_before: Optional[str]

    def to_json(self) -> Dict[str, Any]:
        """The API's answer."""
        return {"conversations": [c.to_json() for c in self.conversations], "next_before": self.next_before}


def encode_cursor(conversation: Conversation) -> str:
    """The cursor that continues after `conversation`: `<activity time>~<id>` (the time exactly, as repr)."""
    return f"{float(conversation.last_message_at or 0)!r}~{conversation.id}"


def decode_cursor(cursor: str) -> Tuple[float, str]:
    """(activity time, id) from a cursor, or InvalidCursor."""
    match = CURSOR_PATTERN.fullmatch(cursor)
    if match is None:
        raise InvalidCursor(cursor)
    return float(match.group(1)), match.group(2)


def conversation_page(
    database: Database,
    status: Optional[str] = None,
    assigned_to: Optional[str] = None,
    limit: int = DEFAULT_LIMIT,
    before: Optional[str] = None,
    missed: bool = False,
) -> ConversationPage:
    """Up to `limit` conversations after the cursor `before`, optionally of one status and holder, or only missed."""
    conditions: List[str] = ["missed_at >= ?"] if missed else []  # a missed wait: missed_at is its UNIX time
    params: List[Any] = [0.0] if missed else []
    if status:
        conditions.append("status = ?")
        params.append(status)
    if assigned_to:
        conditions.append("assigned_to = ?")
        params.append(assigned_to)
    if before is not None:
        activity, conversation_id = decode_cursor(before)
        conditions.append(f"({_ACTIVITY} < ? OR ({_ACTIVITY} = ? AND id > ?))")
        params.extend([activity, activity, conversation_id])
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = database.execute(
        f"SELECT {COLUMNS} FROM conversations {where} ORDER BY {_ACTIVITY} DESC, id LIMIT ?", (*params, limit + 1)
    )
    found = [conversation_from_row(row) for row in rows[:limit]]
    return ConversationPage(found, encode_cursor(found[-1]) if len(rows) > limit else None)
