"""Media: `GET /media/{id}` serves a stored file (with byte ranges), `POST /conversations/{id}/media` sends one.

Body size: this one route reads its own body, up to WhatsApp's largest file (a 100 MB document)
plus FORM_OVERHEAD_BYTES for the form around it, whatever `SERVER_MAX_BODY_BYTES` says for the
rest of the server; a bigger body is refused with 413 by its `Content-Length` before it is read.
The file is checked against WhatsApp's limits for its type before anything is stored or sent.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import urllib.parse
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Dict, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.conversations import load_or_404
from channels.attendant.multipart import FormFile, MalformedForm, parse_form
from channels.attendant.requests import ApiError
from supportdesk.attendant.tokens import Attendant
from supportdesk.handoff.desk import NotHolder, UnknownConversation
from supportdesk.handoff.state import timeouts_from
from supportdesk.media.records import MediaRecord, load_media, new_media_id
from supportdesk.media.store import MediaNotFound, storage_key
from supportdesk.media.upload import (
    AttendantMedia,
    InvalidCaption,
    MediaTooLarge,
    UnsupportedMedia,
    checked_caption,
    classify,
    queue_media_message,
)
from supportdesk.platform.http_errors import error_response
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.request_body import BodyTooLarge, read_body
from supportdesk.runtime import Runtime, get_runtime
from supportdesk.whatsapp.graph_errors import GraphApiError
from supportdesk.whatsapp.limits import MEDIA_MAX

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

logger = logging.getLogger(__name__)

FORM_OVERHEAD_BYTES = 64 * 1024  # boundaries, part headers and the caption around the file
UPLOAD_BODY_MAX = MEDIA_MAX + FORM_OVERHEAD_BYTES
CHUNK_BYTES = 1024 * 1024  # a larger file (or range) is streamed, one store read per chunk
FILENAME_MAX = 200
_MIME_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(?:\s*;\s*[\w.+-]+=[\w.+\-\"]+)*")  # a type with parameters, nothing else
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,18})\s*-\s*(\d{0,18})\s*$", re.IGNORECASE)
# A customer's file is served as data, never run: no sniffing, and a sandbox should it be opened as a page.
SAFETY_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "private, max-age=3600"}


class RangeNotSatisfiable(ValueError):
    """The Range asks only for bytes past the end of the file (416)."""


def byte_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """The one range asked for as (first, last) inclusive; None serves the whole file.

    `bytes=a-b`, `bytes=a-` and `bytes=-n` are understood; a header that is malformed, names another
    unit, or asks for several ranges is ignored, as RFC 9110 allows.
    """
    found = _RANGE.match(header or "")
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - suffix), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(header)
    return start, min(int(last), size - 1) if last else size - 1


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add `GET /media/{id}` and `POST /conversations/{id}/media` to `api`."""

    @api.route("/media/<media_id>", methods=["GET"])
    @channel.authorized
    async def media(request: Request, attendant: Attendant, media_id: str) -> Optional[HTTPResponse]:
        return await _serve(request, media_id)

    @api.route("/conversations/<conversation_id>/media", methods=["POST"], stream=True)
    @channel.authorized
    async def send_media(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        message = await _send(request, attendant, conversation_id)
        return response.json({"id": message["id"], "message": message}, status=202)


async def _stored(media_id: str) -> Tuple[MediaRecord, int]:
    """The record of a stored file and its size, or the 404 that says why there is none."""
    runtime = get_runtime()
    record = await runtime.database.run(load_media, runtime.database, media_id)
    if record is None:
        raise ApiError(404, "not_found", "No media with that id.")
    if record.status == "pending":
        raise ApiError(404, "media_pending", "The file is still being fetched from WhatsApp; try again shortly.")
    if record.status != "stored" or not record.storage_key:
        raise ApiError(404, "media_unavailable", f"The file could not be fetched from WhatsApp: {record.error or 'unknown'}.")
    try:
        size = await asyncio.to_thread(runtime.media_store.size, record.storage_key)
    except MediaNotFound:
        raise ApiError(404, "media_gone", "The file is no longer kept (MEDIA_RETENTION_DAYS).") from None
    return record, size


def _headers(record: MediaRecord) -> Dict[str, str]:
    headers = {**SAFETY_HEADERS, "Accept-Ranges": "bytes"}
    if record.filename:
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{urllib.parse.quote(record.filename, safe='')}"
    return headers


async def _serve(request: Request, media_id: str) -> Optional[HTTPResponse]:
    record, size = await _stored(media_id)
    headers = _headers(record)
    content_type = record.mime_type if record.mime_type and _MIME_TYPE.fullmatch(record.mime_type) else "application/octet-stream"
    try:
        wanted = byte_range(request.headers.get("Range"), size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        return error_response(416, "range_not_satisfiable", f"The file has {size} bytes.", headers)
    status, (first, last) = (200, (0, size - 1)) if wanted is None else (206, wanted)
    if status == 206:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    length = max(0, last - first + 1)
    headers["Content-Length"] = str(length)
    store = get_runtime().media_store
    if length <= CHUNK_BYTES:
        data = await asyncio.to_thread(store.read, record.storage_key, first, last) if length else b""
        return response.raw(data, status=status, headers=headers, content_type=content_type)
    stream = await request.respond(status=status, headers=headers, content_type=content_type)
    for start in range(first, last + 1, CHUNK_BYTES):
        await stream.send(await asyncio.to_thread(store.read, record.storage_key, start, min(start + CHUNK_BYTES, last + 1) - 1))
    await stream.eof()
    return None


async def _send(request: Request, attendant: Attendant, conversation_id: str) -> Dict:
    """Check, store, upload to WhatsApp and queue the file; the answer's message (as the stream shows it)."""
    conversation = await load_or_404(conversation_id)
    if not conversation.window_open():
        raise ApiError(409, "window_closed", "The 24-hour window is closed; send a template instead.")
    if conversation.status != "human" or conversation.assigned_to != attendant.id:
        raise ApiError(409, "not_holder", "Claim the conversation before sending it a file.")
    upload, caption, data = await _read_upload(request)
    try:
        kind = classify(upload.content_type, upload.filename, data)
        caption = checked_caption(kind, caption)
    except UnsupportedMedia as refused:
        raise ApiError(415, "unsupported_media_type", str(refused)) from None
    except MediaTooLarge as refused:
        limit, size = refused.limit, refused.size
        raise ApiError(413, "media_too_large", f"{refused.kind} files may have at most {limit} bytes; this one has {size}.") from None
    except InvalidCaption as refused:
        raise ApiError(400, "invalid_caption", str(refused)) from None
    runtime = get_runtime()
    media_id = new_media_id()
    filename = PurePosixPath(upload.filename.replace("\\", "/")).name[:FILENAME_MAX] or None
    key = storage_key(conversation_id, media_id)
    await asyncio.to_thread(runtime.media_store.put, key, data, kind.mime_type)
    try:
        whatsapp_id = await _upload_to_whatsapp(runtime, data, kind.mime_type, filename or media_id)
        sent = AttendantMedia(media_id, conversation_id, attendant.id, kind, len(data), AttendantMedia.digest(data),
                              filename, caption, key, whatsapp_id)
        message = await _queue(runtime, sent)
    except BaseException:
        await asyncio.to_thread(runtime.media_store.delete, key)  # nothing refers to it
        raise
    logger.info("attendant.media.queued", extra={"conversation": mask_phone(conversation_id), "kind": kind.kind,
                                                 "bytes": len(data), "attendant": attendant.id})
    runtime.wake_sender()
    return message


async def _read_upload(request: Request) -> Tuple[FormFile, Optional[str], bytes]:
    """The form's `file` (with its bytes) and `caption`; 413 over the route's limit, 400 without a file."""
    try:  # a stream=True route: Sanic leaves the ceiling to the handler, so SERVER_MAX_BODY_BYTES does not apply
        body = await read_body(request, UPLOAD_BODY_MAX)
    except BodyTooLarge:
        raise ApiError(413, "payload_too_large",
                       f"The upload is larger than WhatsApp's largest file ({MEDIA_MAX} bytes, a document).") from None
    try:
        fields, files = parse_form(body, request.headers.get("Content-Type"))
    except MalformedForm as malformed:
        raise ApiError(400, "malformed_form", f"Send multipart/form-data with a file part: {malformed}.") from None
    upload = files.get("file")
    if upload is None or not upload.data:
        raise ApiError(400, "no_file", "Attach a non-empty file as the form field `file`.")
    return upload, fields.get("caption"), upload.data


async def _upload_to_whatsapp(runtime: Runtime, data: bytes, mime_type: str, filename: str) -> Optional[str]:
    """Meta's media id for the file; None without a WhatsApp token (the outbox then only logs the send)."""
    if runtime.graph is None:
        return None
    try:
        return await runtime.graph.upload_media(data, mime_type, filename)
    except GraphApiError as error:
        raise ApiError(502, "upload_failed", f"WhatsApp did not take the file ({error.reason}); try again.") from None


async def _queue(runtime: Runtime, sent: AttendantMedia) -> Dict:
    """Queue the message; the holder is checked again in its transaction (a release may have come meanwhile)."""
    try:
        return await runtime.database.run(
            queue_media_message, runtime.database, sent, timeouts_from(runtime.settings), time.time()
        )
    except UnknownConversation:
        raise ApiError(404, "not_found", "No conversation with that id.") from None
    except NotHolder:
        raise ApiError(409, "not_holder", "Claim the conversation before sending it a file.") from None
