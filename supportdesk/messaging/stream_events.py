"""The attendant stream's event log: one table all replicas write to and every stream reads.

Event ids are the table's ids, so `Last-Event-ID` resumes exactly, on any replica. Writers
call `publish` inside their own transaction, so an event exists if and only if its change does.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Dict, List, Optional

from supportdesk.platform.database import Cursor, Database

CONVERSATION_UPDATED = "conversation.updated"
MESSAGE_CREATED = "message.created"
MESSAGE_STATUS = "message.status"
RETENTION_SECONDS = 24 * 3600  # older events are purged by `housekeeping`


@dataclasses.dataclass(frozen=True)
class StreamEvent:
    """One event as a stream sends it."""

    id: int
    event: str
    conversation_id: Optional[str]
    data: Dict[str, Any]


def publish(cursor: Cursor, event: str, data: Dict[str, Any], conversation_id: Optional[str] = None) -> None:
    """Append an event in the caller's transaction."""
    cursor.execute(
        "INSERT INTO stream_events (event, conversation_id, data, created_at) VALUES (?, ?, ?, ?)",
        (event, conversation_id, json.dumps(data, ensure_ascii=False, separators=(",", ":")), time.time()),
    )


def events_after(database: Database, last_id: int, limit: int = 200) -> List[StreamEvent]:
    """Events with an id above `last_id`, oldest first."""
    rows = database.execute(
        "SELECT id, event, conversation_id, data FROM stream_events WHERE id > ? ORDER BY id LIMIT ?",
        (last_id, limit),
    )
    return [StreamEvent(row["id"], row["event"], row["conversation_id"], json.loads(row["data"])) for row in rows]


def latest_id(database: Database) -> int:
    """The id of the newest event (0 when there is none): where a fresh stream starts."""
    rows = database.execute("SELECT MAX(id) AS id FROM stream_events")
    return int(rows[0]["id"] or 0)
