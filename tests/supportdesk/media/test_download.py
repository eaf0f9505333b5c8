"""Every media type of the fixtures is fetched from the fake Graph API, checked, stored and recorded."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path
from typing import Iterator, List

import pytest

from supportdesk.media.download import MediaDownloadError, download, sha256_matches
from supportdesk.media.intake import MediaIntake
from supportdesk.media.records import load_media
from supportdesk.media.store import FileMediaStore
from supportdesk.messaging.inbox import InboxRow
from supportdesk.platform.database import Database
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.payload import InboundMessage, parse_webhook
from tests.fakes.fake_graph_api import DOWNLOAD, FAKE_ACCESS_TOKEN, MEDIA, FakeGraphApi, graph_error
from tests.fakes.server import ScriptedAnswer
from tests.fixture_files import PHONE_NUMBER_ID, fixture_bytes

POLICY = RetryPolicy(max_attempts=5, base_seconds=0.01, cap_seconds=0.01)
MEDIA_FIXTURES = {
    "image": "inbound_image.json",
    "audio": "inbound_audio_voice.json",
    "video": "inbound_video.json",
    "document": "inbound_document.json",
    "sticker": "inbound_sticker.json",
}


def media_bytes(kind: str, size: int = 20_000) -> bytes:
    """Deterministic bytes standing for a file of `kind`."""
    seed = hashlib.sha256(kind.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def inbound(kind: str, data: bytes) -> InboundMessage:
    """The fixture's message of `kind`, its webhook hash made that of `data` (base64, as Meta sends it)."""
    message = parse_webhook(fixture_bytes(MEDIA_FIXTURES[kind])).messages[0]
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return dataclasses.replace(message, media=dataclasses.replace(message.media, sha256=sha))


def row_of(message: InboundMessage) -> InboxRow:
    return InboxRow(1, message.wamid, message.customer_id, 0, message)


@pytest.fixture
def fake() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
async def graph(fake: FakeGraphApi) -> Iterator[GraphApiClient]:
    client = GraphApiClient(fake.url + "/v24.0", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=5.0)
    yield client
    await client.close()


@pytest.fixture
def store(tmp_path: Path) -> FileMediaStore:
    return FileMediaStore(tmp_path / "media")


@pytest.fixture
def waits() -> List[float]:
    return []


@pytest.fixture
def intake(database: Database, store: FileMediaStore, graph: GraphApiClient, waits: List[float]) -> MediaIntake:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return MediaIntake(database, store, graph, POLICY, sleep=sleep)


@pytest.mark.parametrize("kind", sorted(MEDIA_FIXTURES))
async def test_every_media_type_is_downloaded_checked_and_stored(kind, fake, intake, store, database) -> None:
    data = media_bytes(kind)
    message = inbound(kind, data)
    mime_type = message.media.mime_type
    fake.add_media(message.media.media_id, data, mime_type)
    record = await intake.ingest(message.customer_id, message)
    assert (record.status, record.error, record.size, record.mime_type) == ("stored", None, len(data), mime_type)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert (record.caption, record.filename) == (message.media.caption, message.media.filename)
    assert store.read(record.storage_key) == data
    assert load_media(database, record.id) == record
    assert [request.headers["Authorization"] for request in fake.downloads()] == [f"Bearer {FAKE_ACCESS_TOKEN}"]
    paths = [request.path for request in fake.media_requests()]
    assert paths == [f"/v24.0/{message.media.media_id}", "/whatsapp_business/attachments/"]


async def test_a_document_keeps_its_filename(fake, intake) -> None:
    data = media_bytes("document")
    message = inbound("document", data)
    fake.add_media(message.media.media_id, data, "application/pdf")
    record = await intake.ingest(message.customer_id, message)
    assert (record.filename, record.caption) == ("comprovante_pix_24-11.pdf", "Segue o comprovante do Pix")


async def test_an_expired_url_is_asked_for_again(fake, intake, waits) -> None:
    data = media_bytes("image")
    message = inbound("image", data)
    fake.add_media(message.media.media_id, data, "image/jpeg")
    fake.script(DOWNLOAD, ScriptedAnswer(404, b"URL signature expired"))
    record = await intake.ingest(message.customer_id, message)
    assert record.status == "stored"
    assert len(fake.downloads()) == 2 and len(waits) == 1
    first, second = [request.query["hash"] for request in fake.downloads()]
    assert first != second  # a fresh URL from a second metadata request


async def test_media_that_is_gone_is_recorded_as_failed_and_the_turn_goes_on(fake, intake, database, waits) -> None:
    message = inbound("image", media_bytes("image"))  # never added to the fake: its URL answers 404
    turn = await intake.before_turn(row_of(message))
    assert turn.text is None and turn.media["status"] == "failed"
    assert turn.media["error"] == "http_404: download failed after 3 attempt(s)"
    assert len(fake.downloads()) == 3 and len(waits) == 2
    assert load_media(database, turn.media["id"]).status == "failed"


async def test_an_unknown_media_id_fails_at_once(fake, intake) -> None:
    message = inbound("video", media_bytes("video"))
    fake.script(MEDIA, ScriptedAnswer(400, graph_error(100, "Invalid parameter")))
    record = await intake.ingest(message.customer_id, message)
    assert (record.status, record.error) == ("failed", "invalid_parameter: metadata failed after 1 attempt(s)")
    assert fake.downloads() == []


async def test_server_errors_are_retried_with_backoff(fake, intake, waits) -> None:
    data = media_bytes("sticker")
    message = inbound("sticker", data)
    fake.add_media(message.media.media_id, data, "image/webp")
    fake.script_server_error(times=2, route=MEDIA)
    record = await intake.ingest(message.customer_id, message)
    assert record.status == "stored" and len(waits) == 2 and all(0.001 <= wait <= 0.01 for wait in waits)


async def test_bytes_that_are_not_what_the_customer_sent_are_refused(fake, intake) -> None:
    message = inbound("image", media_bytes("image"))
    fake.add_media(message.media.media_id, media_bytes("other"), "image/jpeg")
    record = await intake.ingest(message.customer_id, message)
    assert (record.status, record.error) == ("failed", "sha256_mismatch: the bytes are not the file the customer sent")
    assert record.storage_key is None


async def test_a_file_over_whatsapp_s_limit_is_not_downloaded(fake, intake) -> None:
    data = media_bytes("sticker", 500_001)  # stickers: 500 KB
    message = inbound("sticker", data)
    fake.add_media(message.media.media_id, data, "image/webp")
    record = await intake.ingest(message.customer_id, message)
    assert (record.status, record.error) == ("failed", "too_large: 500001 bytes, over 500000 for sticker")
    assert fake.downloads() == []


async def test_a_retried_turn_does_not_download_again(fake, intake) -> None:
    data = media_bytes("audio")
    message = inbound("audio", data)
    fake.add_media(message.media.media_id, data, "audio/ogg; codecs=opus")
    first = await intake.ingest(message.customer_id, message)
    again = await intake.ingest(message.customer_id, message)
    assert again == first and len(fake.downloads()) == 1


async def test_without_whatsapp_settings_the_failure_is_recorded(database, store) -> None:
    message = inbound("image", media_bytes("image"))
    record = await MediaIntake(database, store, None, POLICY).ingest(message.customer_id, message)
    assert (record.status, record.error) == ("failed", "whatsapp_not_configured: no WhatsApp access token to download with")


async def test_download_raises_with_the_last_reason(fake, graph) -> None:
    with pytest.raises(MediaDownloadError) as raised:
        await download(graph, "404404", "image", None, RetryPolicy(1, 0, 0))
    assert raised.value.reason == "http_404"


def test_hashes_match_in_hex_or_base64() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert sha256_matches(digest.hex(), digest) and sha256_matches(base64.b64encode(digest).decode(), digest)
    assert sha256_matches(None, digest) and not sha256_matches("nope", digest)
