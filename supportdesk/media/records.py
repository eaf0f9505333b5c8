"""The `media_files` rows: one per media file of a message, customer's or attendant's.

`id` is our own opaque id (the attendant API's `/media/{id}`), never Meta's media id.
`message_ref` ties the file to its message: the inbound `wamid` of a customer's message, the
outbox id (as text) of an attendant's. `status` is `pending` until the bytes are stored, then
`stored`, or `failed` with `error` saying why (the console shows "media unavailable" and the reason).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any, Dict, Iterable, Mapping, Optional, Union

from supportdesk.platform.database import Cursor, Database

MEDIA_URL_PREFIX = "/webhooks/attendant/media/"
DIRECTIONS = ("customer", "attendant")
STATUSES = ("pending", "stored", "failed")

_COLUMNS = (
    "id",
    "conversation_id",
    "message_ref",
    "direction",
    "whatsapp_media_id",
    "mime_type",
    "size",
    "sha256",
    "filename",
    "caption",
    "storage_key",
    "status",
    "error",
    "transcript",
    "created_at",
    "stored_at",
)


def new_media_id() -> str:
    """A fresh opaque, URL-safe id (not guessable, not Meta's id)."""
    return "m_" + secrets.token_urlsafe(18)


@dataclasses.dataclass(frozen=True)
class MediaRecord:
    """One media file and what we know about it."""

    id: str
    conversation_id: str
    message_ref: str
    direction: str  # 'customer' | 'attendant'
    whatsapp_media_id: Optional[str] = None
    mime_type: Optional[str] = None
    size: Optional[int] = None
    sha256: Optional[str] = None
    filename: Optional[str] = None
    caption: Optional[str] = None
    storage_key: Optional[str] = None
    status: str = "pending"  # 'pending' | 'stored' | 'failed'
    error: Optional[str] = None
    transcript: Optional[str] = None
    created_at: float = dataclasses.field(default_factory=time.time)
    stored_at: Optional[float] = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MediaRecord:
        """A record from a `media_files` row."""
        values = {name: row[name] for name in _COLUMNS}
        values["size"] = int(values["size"]) if values["size"] is not None else None
        values["created_at"] = float(values["created_at"])
        values["stored_at"] = float(values["stored_at"]) if values["stored_at"] is not None else None
        return cls(**values)


def insert_media(cursor: Cursor, record: MediaRecord) -> None:
    """Write a new `media_files` row."""
    marks = ", ".join("?" for _ in _COLUMNS)
    cursor.execute(
        f"INSERT INTO media_files ({', '.join(_COLUMNS)}) VALUES ({marks})",
        tuple(getattr(record, name) for name in _COLUMNS),
    )


def update_media(cursor: Cursor, media_id: str, **fields: Any) -> None:
    """Change some columns of one row (names are checked against the table's columns)."""
    unknown = set(fields) - set(_COLUMNS[1:])
    if unknown:
        raise ValueError(f"not media_files columns: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    cursor.execute(f"UPDATE media_files SET {assignments} WHERE id = ?", (*fields.values(), media_id))


def load_media(database: Database, media_id: str) -> Optional[MediaRecord]:
    """The record with our id `media_id`, or None."""
    rows = database.execute(f"SELECT {', '.join(_COLUMNS)} FROM media_files WHERE id = ?", (media_id,))
    return MediaRecord.from_row(rows[0]) if rows else None


def media_for_refs(
    source: Union[Cursor, Database], conversation_id: str, refs: Iterable[str]
) -> Dict[str, MediaRecord]:
    """The media of the messages `refs` (wamids or outbox ids as text) of one conversation, keyed by ref."""
    wanted = sorted({str(ref) for ref in refs})
    found: Dict[str, MediaRecord] = {}
    for start in range(0, len(wanted), 500):  # keep the parameter count well under SQLite's limit
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = (
            f"SELECT {', '.join(_COLUMNS)} FROM media_files "
            f"WHERE conversation_id = ? AND message_ref IN ({marks}) ORDER BY created_at"
        )
        params = (conversation_id, *chunk)
        rows = source.execute(sql, params)
        rows = rows.fetchall() if isinstance(rows, Cursor) else rows
        for row in rows:
            found.setdefault(row["message_ref"], MediaRecord.from_row(row))
    return found


def media_of_conversation(database: Database, conversation_id: str) -> Dict[str, MediaRecord]:
    """Every media record of one conversation, keyed by our id."""
    rows = database.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM media_files WHERE conversation_id = ?", (conversation_id,)
    )
    return {row["id"]: MediaRecord.from_row(row) for row in rows}


def media_json(record: MediaRecord) -> Dict[str, Any]:
    """The contract's `media` object, plus `status` and `error` so the console can say why it is missing."""
    return {
        "id": record.id,
        "mime_type": record.mime_type,
        "size": record.size,
        "filename": record.filename,
        "caption": record.caption,
        "transcript": record.transcript,
        "url": MEDIA_URL_PREFIX + record.id,
        "status": record.status,
        "error": record.error,
    }
