"""An attendant's file: WhatsApp's type and size rules, and the queued message with its media row (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time

import pytest

from supportdesk.handoff.desk import NotHolder, UnknownConversation
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.media.records import load_media
from supportdesk.media.upload import (
    AttendantMedia,
    InvalidCaption,
    MediaKind,
    MediaTooLarge,
    UnsupportedMedia,
    checked_caption,
    classify,
    media_message,
    queue_media_message,
)
from supportdesk.messaging import stream_events
from supportdesk.platform.database import Database

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 60
CUSTOMER = "5511987654321"


@pytest.mark.parametrize(
    "declared, filename, data, kind, mime",
    [("image/jpeg", "a.jpg", JPEG, "image", "image/jpeg"),
     ("image/jpg", "a.jpg", JPEG, "image", "image/jpeg"),
     ("image/jpeg", "shot.jpg", PNG, "image", "image/png"),
     ("application/octet-stream", "sticker.webp", WEBP, "sticker", "image/webp"),
     ("audio/ogg; codecs=opus", "v.ogg", b"OggS", "audio", "audio/ogg"),
     ("audio/mp3", "song.mp3", b"ID3", "audio", "audio/mpeg"),
     ("", "clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video", "video/mp4"),
     ("video/3gpp", "clip.3gp", b"\x00\x00\x00\x18ftyp3gp4", "video", "video/3gpp"),
     ("application/octet-stream", "quote.pdf", b"%PDF-1.7", "document", "application/pdf"),
     ("text/plain; charset=utf-8", "notes.txt", b"hello", "document", "text/plain")],
)
def test_a_file_is_sent_as_the_type_whatsapp_takes_it(declared, filename, data, kind, mime):
    found = classify(declared, filename, data)
    assert (found.kind, found.mime_type) == (kind, mime)


@pytest.mark.parametrize(
    "declared, filename, data",
    [("image/gif", "a.gif", b"GIF89a"), ("image/heic", "a.heic", b"\x00\x00\x00\x18ftypheic"),
     ("audio/wav", "a.wav", b"RIFF\x00\x00\x00\x00WAVE"), ("application/zip", "a.zip", b"PK\x03\x04"),
     ("application/octet-stream", "no-extension", b"\x00\x01"), ("text/html", "page.html", b"<html>")],
)
def test_a_type_whatsapp_refuses_is_unsupported(declared, filename, data):
    with pytest.raises(UnsupportedMedia):
        classify(declared, filename, data)


@pytest.mark.parametrize("kind, limit", [("image", 5_000_000), ("sticker", 500_000)])
def test_one_byte_over_the_types_limit_is_too_large_and_the_limit_itself_fits(kind, limit):
    head = JPEG if kind == "image" else WEBP
    assert classify(None, "x", head + b"\x00" * (limit - len(head))).limit == limit
    with pytest.raises(MediaTooLarge) as refused:
        classify(None, "x", head + b"\x00" * (limit - len(head) + 1))
    assert (refused.value.kind, refused.value.size, refused.value.limit) == (kind, limit + 1, limit)


def test_captions_go_with_images_videos_and_documents_only():
    image, audio = MediaKind("image", "image/jpeg", 1), MediaKind("audio", "audio/ogg", 1)
    assert (checked_caption(image, "  look  "), checked_caption(image, " "), checked_caption(audio, None)) == ("look", None, None)
    with pytest.raises(InvalidCaption):
        checked_caption(audio, "listen")
    with pytest.raises(InvalidCaption):
        checked_caption(image, "x" * 1025)
    assert media_message("document", "123", "the quote", "q.pdf") == {
        "type": "document", "document": {"id": "123", "caption": "the quote", "filename": "q.pdf"}}


def a_held_conversation(database: Database, holder: str = "ana") -> None:
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            """INSERT INTO conversations (id, status, assigned_to, last_inbound_at, last_message_at, created_at, updated_at)
               VALUES (?, 'human', ?, ?, ?, ?, ?)""", (CUSTOMER, holder, now, now, now, now))


def upload(attendant: str = "ana", conversation: str = CUSTOMER) -> AttendantMedia:
    return AttendantMedia("m_upload1", conversation, attendant, MediaKind("image", "image/png", 5_000_000), len(PNG),
                          AttendantMedia.digest(PNG), "shot.png", "the crack", "k/2026/11/m_upload1", "1037543291500000001")


def test_the_holders_file_is_one_outbox_row_one_media_row_and_one_stream_event(database):
    a_held_conversation(database)
    message = queue_media_message(database, upload(), HandoffTimeouts(), 1_800_000_000.0)
    assert (message["id"], message["type"], message["text"], message["media"]["url"]) == (
        "out-1", "image", "the crack", "/webhooks/attendant/media/m_upload1")
    [row] = database.execute("SELECT origin, attendant_id, message, preview, in_tracker FROM outbox_messages")
    assert (row["origin"], row["attendant_id"], json.loads(row["message"]), row["preview"], row["in_tracker"]) == (
        "attendant", "ana", {"type": "image", "image": {"id": "1037543291500000001", "caption": "the crack"}}, "the crack", 0)
    record = load_media(database, "m_upload1")
    assert (record.direction, record.message_ref, record.status, record.size) == ("attendant", "1", "stored", len(PNG))
    [event] = stream_events.events_after(database, 0)
    assert (event.event, event.data) == (stream_events.MESSAGE_CREATED, message)


def test_another_attendant_or_an_unknown_conversation_queues_nothing(database):
    a_held_conversation(database, holder="bruno")
    with pytest.raises(NotHolder):
        queue_media_message(database, upload(), HandoffTimeouts(), time.time())
    with pytest.raises(UnknownConversation):
        queue_media_message(database, upload(conversation="19995550000"), HandoffTimeouts(), time.time())
    assert database.execute("SELECT COUNT(*) AS n FROM outbox_messages")[0]["n"] == 0
    assert load_media(database, "m_upload1") is None
