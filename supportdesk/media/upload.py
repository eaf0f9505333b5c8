"""An attendant's file to a customer: checked against WhatsApp's limits, then queued like a text reply.

`classify` decides before anything is stored or sent whether WhatsApp takes the file, and as
which message type (`image`, `audio`, `video`, `document`, `sticker`), with the limits of
`whatsapp.limits`. `queue_media_message` then does in one transaction what a text reply does
(holder check, outbox row, idle reminder, stream event) and records the `media_files` row whose
`message_ref` is the outbox id, so the history shows the file with the message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mimetypes
from typing import Any, Dict, Optional

from supportdesk.handoff import state as handoff
from supportdesk.handoff.desk import NotHolder, UnknownConversation
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.media.records import MediaRecord, insert_media, media_json
from supportdesk.messaging import outbox, stream_events
from supportdesk.platform.database import Database
from supportdesk.platform.timestamps import iso_time
from supportdesk.whatsapp.limits import CAPTION_MAX, MEDIA_CAPTION_KINDS, MEDIA_LIMITS

GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg", "audio/x-aac": "audio/aac",
           "audio/x-m4a": "audio/mp4", "audio/m4a": "audio/mp4", "audio/opus": "audio/ogg", "application/x-pdf": "application/pdf"}
# What an image's first bytes say it is: phones and browsers name files by extension, WhatsApp reads the bytes.
IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF8", "image/gif"))


class UnsupportedMedia(ValueError):
    """WhatsApp does not accept files of this type (415)."""

    def __init__(self, mime_type: str, reason: str) -> None:
        super().__init__(reason)
        self.mime_type = mime_type


class MediaTooLarge(ValueError):
    """The file is over WhatsApp's limit for its type (413)."""

    def __init__(self, kind: str, size: int, limit: int) -> None:
        super().__init__(kind, size, limit)
        self.kind = kind
        self.size = size
        self.limit = limit


class InvalidCaption(ValueError):
    """A caption WhatsApp would refuse: too long, or on a type without captions (400)."""


@dataclasses.dataclass(frozen=True)
class MediaKind:
    """What WhatsApp will make of a file: message type, MIME type and the type's size limit."""

    kind: str
    mime_type: str
    limit: int


def _sniffed_image(data: bytes) -> Optional[str]:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for signature, mime in IMAGE_SIGNATURES if data.startswith(signature)), None)


def media_type_of(declared: Optional[str], filename: Optional[str], data: bytes) -> str:
    """The file's MIME type: an image's bytes first, then what the client declared, then the file name."""
    mime = (declared or "").split(";")[0].strip().lower()
    mime = ALIASES.get(mime, mime)
    if mime in GENERIC_TYPES and filename:
        guessed = mimetypes.guess_type(filename)[0] or ""
        mime = ALIASES.get(guessed, guessed)
    sniffed = _sniffed_image(data)
    if sniffed is not None:
        return sniffed
    if mime.startswith("image/"):
        raise UnsupportedMedia(mime, f"The file is declared {mime} but is not a JPEG, PNG or WebP image.")
    return mime or "application/octet-stream"


def classify(declared: Optional[str], filename: Optional[str], data: bytes) -> MediaKind:
    """The message type WhatsApp sends this file as; UnsupportedMedia or MediaTooLarge when it refuses it."""
    mime = media_type_of(declared, filename, data)
    for kind, (accepted, limit) in MEDIA_LIMITS.items():
        if mime in accepted:
            if len(data) > limit:
                raise MediaTooLarge(kind, len(data), limit)
            return MediaKind(kind, mime, limit)
    raise UnsupportedMedia(mime, f"WhatsApp does not accept {mime} files.")


def checked_caption(kind: MediaKind, caption: Optional[str]) -> Optional[str]:
    """The caption to send (None when blank); InvalidCaption when WhatsApp would refuse it."""
    if caption is None or not caption.strip():
        return None
    if kind.kind not in MEDIA_CAPTION_KINDS:
        raise InvalidCaption(f"WhatsApp sends {kind.kind} files without a caption.")
    if len(caption) > CAPTION_MAX:
        raise InvalidCaption(f"caption must be at most {CAPTION_MAX} characters.")
    return caption.strip()


def media_message(kind: str, media_id: str, caption: Optional[str], filename: Optional[str]) -> Dict[str, Any]:
    """The Graph message object that sends uploaded media `media_id` (a document keeps its file name)."""
    body: Dict[str, Any] = {"id": media_id}
    if caption:
        body["caption"] = caption
    if kind == "document" and filename:
        body["filename"] = filename
    return {"type": kind, kind: body}


@dataclasses.dataclass(frozen=True)
class AttendantMedia:
    """A checked file on its way to a customer: stored under `storage_key`, uploaded as `whatsapp_media_id`."""

    media_id: str
    conversation_id: str
    attendant_id: str
    kind: MediaKind
    size: int
    sha256: str
    filename: Optional[str]
    caption: Optional[str]
    storage_key: str
    whatsapp_media_id: Optional[str]  # None while nothing is really sent (no WhatsApp token: logged only)

    @staticmethod
    def digest(data: bytes) -> str:
        """The hex SHA-256 kept with the file."""
        return hashlib.sha256(data).hexdigest()


def queue_media_message(
    database: Database, upload: AttendantMedia, timeouts: HandoffTimeouts, now: float
) -> Dict[str, Any]:
    """Queue the media message for the holder (NotHolder, UnknownConversation otherwise); returns the message."""
    with database.transaction() as cursor:
        row = cursor.execute(
            "SELECT status, assigned_to FROM conversations WHERE id = ?" + database.for_update, (upload.conversation_id,)
        ).fetchone()
        if row is None:
            raise UnknownConversation(upload.conversation_id)
        if row["status"] != "human" or row["assigned_to"] != upload.attendant_id:
            raise NotHolder(upload.conversation_id)
        kind = upload.kind.kind
        message = media_message(kind, upload.whatsapp_media_id or upload.media_id, upload.caption, upload.filename)
        draft = outbox.OutboxDraft(
            upload.conversation_id, message, "attendant", preview=upload.caption or "", attendant_id=upload.attendant_id
        )
        [outbox_id] = outbox.enqueue(cursor, [draft], now)
        handoff.record_attendant_reply(cursor, upload.conversation_id, timeouts, now)
        record = MediaRecord(
            upload.media_id, upload.conversation_id, str(outbox_id), "attendant", upload.whatsapp_media_id,
            upload.kind.mime_type, upload.size, upload.sha256, upload.filename, upload.caption, upload.storage_key,
            "stored", created_at=now, stored_at=now,
        )
        insert_media(cursor, record)
        created = {
            "id": outbox.message_id_of(outbox_id), "conversation_id": upload.conversation_id, "sender": "attendant",
            "text": upload.caption or "", "timestamp": iso_time(now), "attendant_id": upload.attendant_id,
            "status": "pending", "status_reason": None, "type": kind, "media": media_json(record),
        }
        stream_events.publish(cursor, stream_events.MESSAGE_CREATED, created, upload.conversation_id)
    return created
