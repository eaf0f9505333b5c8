"""The simulator's media: a customer's photo or voice note through the signed webhook, and attendants' files shown."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from channels.console import ConsoleInput
from channels.whatsapp import WhatsAppInput
from supportdesk.console.simulator_media import SimulatorGraph
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.media.store import storage_key
from supportdesk.media.upload import AttendantMedia, MediaKind, queue_media_message
from supportdesk.messaging import outbox
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.graph_errors import GraphApiError
from supportdesk.whatsapp.payload import MessageKind, parse_webhook
from supportdesk.whatsapp.signature import SignatureCheck, check_signature
from tests.channels.test_console import CUSTOMER, RecordingWebhook, make_app
from tests.fixture_files import APP_SECRET, PHONE_NUMBER_ID

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200))
VOICE = b"OggS\x00\x02" + b"\x07" * 300
API = "/console/simulator/api/media"


@pytest.fixture
def simulator_on(monkeypatch, tmp_path):
    for name, value in (("SIMULATOR_ENABLED", "true"), ("WHATSAPP_APP_SECRET", APP_SECRET),
                        ("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID), ("MEDIA_STORAGE_URL", f"file://{tmp_path / 'media'}")):
        monkeypatch.setenv(name, value)
    reset_settings_cache()


async def post_file(app, files, fields=None):
    form = {name: (None, value) for name, value in (fields or {"wa_id": CUSTOMER, "name": "Kerry Fisher"}).items()}
    _, response = await app.asgi_client.post(API, files={**form, **files})
    return response


async def test_a_photo_is_posted_signed_and_its_bytes_are_served_as_graph_would(simulator_on):
    with RecordingWebhook() as webhook:
        console = ConsoleInput(webhook_url=f"{webhook.url}/webhooks/whatsapp/webhook")
        fields = {"wa_id": CUSTOMER, "name": "Kerry Fisher", "caption": "it arrived broken"}
        response = await post_file(make_app(console), {"file": ("box.jpg", PHOTO, "image/jpeg")}, fields)
        assert response.status == 202, response.text
        [request] = webhook.wait_for_requests(1)
    assert check_signature(request.body, request.headers["X-Hub-Signature-256"], APP_SECRET) is SignatureCheck.VALID
    [message] = parse_webhook(request.body).messages
    media = message.media
    assert (message.wamid, message.kind, message.customer_id) == (response.json["wamid"], MessageKind.IMAGE, CUSTOMER)
    assert (media.mime_type, media.caption, media.sha256) == (
        "image/jpeg", "it arrived broken", base64.b64encode(hashlib.sha256(PHOTO).digest()).decode())
    graph = get_runtime().media_graph
    info = await graph.media_info(media.media_id)
    assert info == {"messaging_product": "whatsapp", "url": f"http://simulator.invalid/media/{media.media_id}",
                    "id": media.media_id, "mime_type": "image/jpeg", "sha256": hashlib.sha256(PHOTO).hexdigest(),
                    "file_size": len(PHOTO)}
    assert await graph.download_media(info["url"], 10_000) == PHOTO


async def test_a_recorded_voice_note_is_an_audio_message_marked_voice(simulator_on):
    with RecordingWebhook() as webhook:
        console = ConsoleInput(webhook_url=f"{webhook.url}/webhooks/whatsapp/webhook")
        fields = {"wa_id": CUSTOMER, "name": "Kerry Fisher", "voice": "true", "caption": "ignored"}
        response = await post_file(make_app(console), {"file": ("voice-note.ogg", VOICE, "audio/ogg;codecs=opus")}, fields)
        assert response.status == 202
        [request] = webhook.wait_for_requests(1)
    [message] = parse_webhook(request.body).messages
    assert (message.kind, message.media.voice, message.media.caption, message.media.mime_type) == (
        MessageKind.AUDIO, True, None, "audio/ogg;codecs=opus")


async def test_the_stand_in_refuses_unknown_ids_urls_and_files_over_the_limit(simulator_on):
    graph = get_runtime().media_graph
    assert isinstance(graph, SimulatorGraph)
    with pytest.raises(GraphApiError) as unknown:
        await graph.media_info("sim404")
    assert (unknown.value.code, unknown.value.http_status) == (100, 400)
    with pytest.raises(GraphApiError) as elsewhere:
        await graph.download_media("https://lookaside.fbsbx.com/x", 10)
    assert elsewhere.value.http_status == 404


def test_with_a_whatsapp_token_media_comes_from_the_graph_client(simulator_on, monkeypatch):
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "token")
    reset_settings_cache()
    assert get_runtime().media_graph is get_runtime().graph is not None


@pytest.mark.parametrize(
    "files, fields, code",
    [({}, None, "no_file"), ({"file": ("empty.jpg", b"", "image/jpeg")}, None, "no_file"),
     ({"file": ("box.jpg", PHOTO, "image/jpeg")}, {"wa_id": "abc"}, "invalid_wa_id")],
)
async def test_bad_files_are_400_and_nothing_is_posted(simulator_on, files, fields, code):
    with RecordingWebhook() as webhook:
        console = ConsoleInput(webhook_url=f"{webhook.url}/webhooks/whatsapp/webhook")
        response = await post_file(make_app(console), files or {"caption": (None, "no file")}, fields)
    assert (response.status, response.json["error"]) == (400, code)
    assert webhook.requests == []


async def test_the_media_api_is_404_while_the_simulator_is_off(monkeypatch):
    app = make_app(ConsoleInput())
    assert (await post_file(app, {"file": ("box.jpg", PHOTO, "image/jpeg")})).status == 404
    _, response = await app.asgi_client.get(f"{API}/m_anything")
    assert (response.status, response.json["error"]) == (404, "not_found")


async def test_a_file_an_attendant_sent_is_listed_with_the_reply_and_served(simulator_on):
    database, store = get_runtime().database, get_runtime().media_store
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            """INSERT INTO conversations (id, status, assigned_to, last_inbound_at, last_message_at, created_at, updated_at)
               VALUES (?, 'human', 'ana', ?, ?, ?, ?)""", (CUSTOMER, now, now, now, now))
    key = storage_key(CUSTOMER, "m_reply1")
    store.put(key, PHOTO, "image/jpeg")
    sent = AttendantMedia("m_reply1", CUSTOMER, "ana", MediaKind("image", "image/jpeg", 5_000_000), len(PHOTO), "x",
                          "label.jpg", "your label", key, None)
    message = queue_media_message(database, sent, HandoffTimeouts(), now)
    outbox_id = int(message["id"].removeprefix("out-"))
    outbox.finish(database, outbox_id, "logged")
    app = make_app(ConsoleInput())
    _, listed = await app.asgi_client.get(f"/console/simulator/api/messages?wa_id={CUSTOMER}")
    [row] = listed.json["messages"]
    assert row["media"] == {"url": f"{API}/m_reply1", "mime_type": "image/jpeg", "filename": "label.jpg",
                            "caption": "your label", "status": "stored"}
    _, served = await app.asgi_client.get(row["media"]["url"])
    assert (served.status, served.body, served.headers["content-type"]) == (200, PHOTO, "image/jpeg")


def test_a_photo_reaches_the_real_webhook_and_is_stored_for_the_turn(simulator_on):
    app = make_app(WhatsAppInput(process_messages=False), ConsoleInput())
    _, response = app.test_client.post(API, files={"wa_id": (None, CUSTOMER), "file": ("box.jpg", PHOTO, "image/jpeg")})
    assert response.status == 202, response.text
    rows = get_runtime().database.execute("SELECT wamid, conversation_id FROM inbox_messages")
    assert [(row["wamid"], row["conversation_id"]) for row in rows] == [(response.json["wamid"], CUSTOMER)]
