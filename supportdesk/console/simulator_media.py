"""The simulator's media: files the simulated customer sends, a stand-in for Graph's media calls, and replies' files.

A photo or voice note sent from the simulator page is kept in the media store under `simulator/`
and announced in a signed webhook with a media id, as Meta would. The media step then downloads it
through `SimulatorGraph`, which answers `media_info` and `download_media` as the Graph client does
(Meta's fields, a URL, the bytes), so the real download path runs: metadata, size and SHA-256
checks, storage, transcription. It exists only while the simulator runs (no WhatsApp token).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
from typing import Any, Dict, Iterable, Mapping, Optional

from supportdesk.media.records import media_for_refs
from supportdesk.media.store import MediaNotFound, MediaStore
from supportdesk.platform.database import Database
from supportdesk.whatsapp.graph_errors import error_from_code
from supportdesk.whatsapp.limits import CAPTION_MAX, MEDIA_MAX

KEY_PREFIX = "simulator"
URL_PREFIX = "http://simulator.invalid/media/"  # never fetched over the network: SimulatorGraph reads it
REPLY_MEDIA_PATH = "/console/simulator/api/media/"
MEDIA_NOT_FOUND = 100  # Graph's "Invalid parameter" for an id it does not know
UPLOAD_BODY_MAX = MEDIA_MAX + 64 * 1024  # WhatsApp's largest file and the form around it


class InvalidSimulatorMedia(ValueError):
    """What the simulator page sent is not a file a customer could send; `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class CustomerFile:
    """A file the simulated customer sends: its media id and what the webhook says about it."""

    media_id: str
    kind: str
    mime_type: str
    sha256_base64: str
    filename: Optional[str]
    caption: Optional[str]
    voice: bool


def kind_of(mime_type: str) -> str:
    """The WhatsApp message type a customer's phone sends a file of this MIME type as."""
    if mime_type in ("image/jpeg", "image/png"):
        return "image"
    if mime_type == "image/webp":
        return "sticker"
    family = mime_type.split("/")[0]
    return family if family in ("audio", "video") else "document"


def save_customer_file(
    store: MediaStore, data: bytes, mime_type: Optional[str], filename: Optional[str], caption: Optional[str], voice: bool
) -> CustomerFile:
    """Keep the file where SimulatorGraph finds it; InvalidSimulatorMedia for an empty file or a long caption."""
    if not data:
        raise InvalidSimulatorMedia("no_file", "Choose a non-empty file.")
    if caption is not None and len(caption) > CAPTION_MAX:
        raise InvalidSimulatorMedia("invalid_caption", f"caption must be at most {CAPTION_MAX} characters.")
    mime = (mime_type or "").strip().lower() or "application/octet-stream"
    kind = kind_of(mime.split(";")[0].strip())
    media_id = f"sim{secrets.randbelow(10**15):015d}"  # digits, like Meta's media ids
    digest = hashlib.sha256(data)
    store.put(f"{KEY_PREFIX}/{media_id}", data, mime)
    facts = {"mime_type": mime, "sha256": digest.hexdigest(), "file_size": len(data)}
    store.put(f"{KEY_PREFIX}/{media_id}.json", json.dumps(facts).encode(), "application/json")
    kept_caption = caption.strip() if caption and caption.strip() and kind in ("image", "video", "document") else None
    return CustomerFile(media_id, kind, mime, base64.b64encode(digest.digest()).decode(), filename, kept_caption,
                        voice and kind == "audio")


def webhook_content(file: CustomerFile) -> Dict[str, Any]:
    """The message's `type` and media object, in the shape of the Cloud API's inbound webhooks."""
    media: Dict[str, Any] = {"mime_type": file.mime_type, "sha256": file.sha256_base64, "id": file.media_id}
    if file.caption:
        media["caption"] = file.caption
    if file.kind == "document" and file.filename:
        media["filename"] = file.filename
    if file.kind == "audio":
        media["voice"] = file.voice
    return {"type": file.kind, file.kind: media}


class SimulatorGraph:
    """Graph's media calls (`media_info`, `download_media`) answered from the simulator's files."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"SimulatorGraph({self._store!r})"

    def _facts(self, media_id: str) -> Dict[str, Any]:
        if not media_id.isalnum():
            raise error_from_code(MEDIA_NOT_FOUND, "unknown media id", http_status=400)
        try:
            return json.loads(self._store.read(f"{KEY_PREFIX}/{media_id}.json"))
        except MediaNotFound:
            raise error_from_code(MEDIA_NOT_FOUND, "unknown media id", http_status=400) from None

    async def media_info(self, media_id: str) -> Dict[str, Any]:
        """Meta's answer for a media id: url, mime_type, sha256 (hex), file_size, id."""
        facts = self._facts(media_id)
        return {"messaging_product": "whatsapp", "url": URL_PREFIX + media_id, "id": media_id, **facts}

    async def download_media(self, url: str, max_bytes: int) -> bytes:
        """The bytes behind a URL from `media_info` (404 for any other URL)."""
        media_id = url.removeprefix(URL_PREFIX)
        if not url.startswith(URL_PREFIX) or not media_id.isalnum():
            raise error_from_code(None, "not a simulator media URL", http_status=404)
        try:
            data = self._store.read(f"{KEY_PREFIX}/{media_id}")
        except MediaNotFound:
            raise error_from_code(None, "simulator media gone", http_status=404) from None
        if len(data) > max_bytes:
            raise error_from_code(None, f"media over {max_bytes} bytes", http_status=400, reason="media_too_large")
        return data


def reply_media(database: Database, wa_id: str, outbox_ids: Iterable[int]) -> Dict[int, Dict[str, Any]]:
    """The files attendants sent in these outbox rows, as the simulator page shows them (by outbox id)."""
    found = media_for_refs(database, wa_id, [str(outbox_id) for outbox_id in outbox_ids])
    return {
        int(ref): {
            "url": REPLY_MEDIA_PATH + record.id, "mime_type": record.mime_type, "filename": record.filename,
            "caption": record.caption, "status": record.status,
        }
        for ref, record in found.items()
        if record.direction == "attendant"
    }


def with_reply_media(shown: Iterable[Mapping[str, Any]], media: Mapping[int, Dict[str, Any]]) -> list:
    """The simulator's reply rows; a row that carries a file an attendant sent gets its `media`."""
    return [{**row, "media": media[int(row["id"])]} if int(row["id"]) in media else dict(row) for row in shown]
