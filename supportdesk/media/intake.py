"""The worker's media step, run before each turn: record, download, store and transcribe the media.

It never raises and never loses the turn: whatever fails is recorded on the `media_files` row
(`status` failed, `error` why) and the turn goes on. A retried turn finds the row and does not
download again. A voice note or audio with a transcript gives the dialogue that transcript as the
customer's text (metadata keeps `message_type: audio`); without one the dialogue gets
`/share_audio`, whose rule tells the customer politely that audio can't be heard right now.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, Awaitable, Callable, Optional

from supportdesk.media.download import MediaDownloadError, download
from supportdesk.media.image_input import ASK_QUESTION, MEDIA_FILE_KEY, can_show
from supportdesk.media.records import (
    MediaRecord,
    insert_media,
    media_for_refs,
    media_json,
    new_media_id,
    update_media,
)
from supportdesk.media.store import MediaStore, storage_key
from supportdesk.media.transcription import Transcriber
from supportdesk.messaging.inbox import InboxRow
from supportdesk.messaging.turn_processor import TurnInput
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.payload import SHARE_MEDIA, InboundMessage, MessageKind

logger = logging.getLogger(__name__)

SHARE_AUDIO = "/share_audio"  # the dialogue's payload for audio nobody could transcribe
ERROR_MAX_CHARS = 200


class MediaIntake:
    """Turns an inbound message's media into a stored file (and a transcript) before the dialogue runs."""

    def __init__(
        self,
        database: Database,
        store: MediaStore,
        graph: Optional[GraphApiClient],
        retry_policy: RetryPolicy,
        transcriber: Optional[Transcriber] = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._database = database
        self._store = store
        self._graph = graph
        self._retry_policy = retry_policy
        self._transcriber = transcriber
        self._sleep = sleep

    async def before_turn(self, row: InboxRow) -> Optional[TurnInput]:
        """The dialogue's input for `row` when it carries media (None otherwise); never raises."""
        message = row.message
        if message.media is None:
            return None
        try:
            record = await self.ingest(row.conversation_id, message)
        except Exception:  # the turn must go on whatever happened to the media
            logger.exception("media.intake.crashed", extra={"wamid": row.wamid})
            return None
        return turn_input(message, record, ai_sees_images=self._transcriber is not None and self._transcriber.configured)

    async def ingest(self, conversation_id: str, message: InboundMessage) -> MediaRecord:
        """The message's media record, downloaded (and transcribed) unless a previous try already finished it."""
        record = await self._database.run(self._record_for, conversation_id, message)
        if record.status == "pending":
            record = await self._fetch(record, message)
        return record

    async def preview(self, row: InboxRow) -> str:
        """The push text for `row`: a voice note's transcript in place of "🎤 Voice message" (never raises)."""
        message = row.message
        if message.kind is not MessageKind.AUDIO or message.media is None:
            return message.preview
        try:
            found = await self._database.run(media_for_refs, self._database, row.conversation_id, [row.wamid])
        except Exception:
            return message.preview
        record = found.get(row.wamid)
        if record is None or not record.transcript:
            return message.preview
        return dataclasses.replace(message, media=dataclasses.replace(message.media, caption=record.transcript)).preview

    def _record_for(self, conversation_id: str, message: InboundMessage) -> MediaRecord:
        with self._database.transaction() as cursor:
            found = media_for_refs(cursor, conversation_id, [message.wamid]).get(message.wamid)
            if found is not None:
                return found
            media = message.media
            record = MediaRecord(
                id=new_media_id(),
                conversation_id=conversation_id,
                message_ref=message.wamid,
                direction="customer",
                whatsapp_media_id=media.media_id,
                mime_type=media.mime_type,
                sha256=media.sha256,
                filename=media.filename,
                caption=media.caption,
            )
            insert_media(cursor, record)
            return record

    async def _fetch(self, record: MediaRecord, message: InboundMessage) -> MediaRecord:
        if not record.whatsapp_media_id:
            return await self._fail(record, MediaDownloadError("no_media_id", "the webhook named no media id"))
        if self._graph is None:
            missing = MediaDownloadError("whatsapp_not_configured", "no WhatsApp access token to download with")
            return await self._fail(record, missing)
        started = time.perf_counter()
        try:
            fetched = await download(
                self._graph, record.whatsapp_media_id, message.kind.value, record.sha256, self._retry_policy, self._sleep
            )
        except MediaDownloadError as error:
            return await self._fail(record, error)
        key = storage_key(record.conversation_id, record.id, record.created_at)
        try:
            await asyncio.to_thread(self._store.put, key, fetched.data, fetched.mime_type)
        except Exception as error:
            return await self._fail(record, MediaDownloadError("store_failed", type(error).__name__))
        stored = dataclasses.replace(
            record,
            mime_type=fetched.mime_type,
            size=len(fetched.data),
            sha256=fetched.sha256,
            storage_key=key,
            status="stored",
            stored_at=time.time(),
        )
        logger.info(
            "media.stored",
            extra={
                "media_id": record.id,
                "conversation": mask_phone(record.conversation_id),
                "kind": message.kind.value,
                "bytes": stored.size,
                "attempts": fetched.attempts,
                "download_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        if message.kind is MessageKind.AUDIO and self._transcriber is not None:
            spoken = await self._transcriber.transcribe(fetched.data, fetched.mime_type, record.conversation_id)
            stored = dataclasses.replace(stored, transcript=spoken.text if spoken else None)
        await self._database.run(self._save, stored)
        return stored

    def _save(self, record: MediaRecord) -> None:
        fields = ("mime_type", "size", "sha256", "storage_key", "status", "error", "transcript", "stored_at")
        with self._database.transaction() as cursor:
            update_media(cursor, record.id, **{name: getattr(record, name) for name in fields})

    async def _fail(self, record: MediaRecord, error: MediaDownloadError) -> MediaRecord:
        failed = dataclasses.replace(record, status="failed", error=str(error)[:ERROR_MAX_CHARS])
        logger.warning(
            "media.failed",
            extra={"media_id": record.id, "conversation": mask_phone(record.conversation_id), "reason": error.reason},
        )
        await self._database.run(self._save, failed)
        return failed


def turn_input(message: InboundMessage, record: MediaRecord, ai_sees_images: bool = False) -> TurnInput:
    """What the dialogue gets: audio as its transcript (or `/share_audio`); a photo without caption as a
    question for the AI (`/ask_question`, the image goes with it) when OpenAI is configured; else as it was."""
    shown = media_json(record)
    fields = ("id", "status", "transcript", "mime_type", "size", "storage_key")
    extra = {MEDIA_FILE_KEY: {name: getattr(record, name) for name in fields}}
    if message.kind is MessageKind.IMAGE and message.user_text == SHARE_MEDIA and ai_sees_images:
        if can_show(extra[MEDIA_FILE_KEY]):
            return TurnInput(text=ASK_QUESTION, metadata=extra, media=shown)
    if message.kind is not MessageKind.AUDIO:
        return TurnInput(metadata=extra, media=shown)
    spoken = (record.transcript or "").lstrip().lstrip("/").strip()  # never a `/intent` payload, as typed text
    return TurnInput(text=spoken or SHARE_AUDIO, metadata=extra, media=shown)
