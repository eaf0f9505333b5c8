"""Media over real HTTP: signed webhooks with a voice note and a photo, the real service, fake Graph and OpenAI.

A spoken "quero falar com uma pessoa" is downloaded, transcribed and understood as a handoff
request (the conversation reaches `waiting`); a voice note that cannot be transcribed gets the
polite reply with a button to a person; the photo is stored and shown in the history.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any, Dict, Iterator, Tuple

import pytest

from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fakes.fake_openai import FAKE_API_KEY, TRANSCRIBE, FakeOpenAi, server_error
from tests.fixture_files import fixture_bytes
from tests.integration.service import RunningService, attendant_token, service_env

ANA = attendant_token("ana")


def media_delivery(fixture: str, customer: str, wamid: str, media_id: str, data: bytes) -> bytes:
    """The fixture's media webhook for one customer, naming `media_id` with the hash of `data` (base64, as Meta does)."""
    body = json.loads(fixture_bytes(fixture))
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update({"wa_id": customer})
    message = value["messages"][0]
    message.update({"from": customer, "id": wamid, "timestamp": str(int(time.time()))})
    media = message[message["type"]]
    media.update({"id": media_id, "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode()})
    media.pop("caption", None)
    return json.dumps(body).encode("utf-8")


def wait_until(check, timeout: float = 60.0) -> Any:
    """Poll `check()` until it returns something truthy (a deadline, no fixed sleep)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"condition not met in {timeout} s")


@pytest.fixture(scope="module")
def media_service(tmp_path_factory) -> Iterator[Tuple[RunningService, FakeGraphApi, FakeOpenAi]]:
    tmp_path = tmp_path_factory.mktemp("media")
    with FakeGraphApi() as graph, FakeOpenAi() as openai:
        env = service_env(
            f"sqlite:///{tmp_path / 'media.db'}",
            graph.url + "/v24.0",
            WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN,
            OPENAI_API_KEY=FAKE_API_KEY,
            OPENAI_BASE_URL=openai.base_url,
            MEDIA_STORAGE_URL=(tmp_path / "media").as_uri(),
        )
        service = RunningService(tmp_path / "service", env).start()
        try:
            yield service, graph, openai
        finally:
            service.stop()


def customer_message(service: RunningService, customer: str, wamid: str) -> Dict[str, Any]:
    history = service.api("GET", f"/conversations/{customer}/messages", ANA).json().get("messages", [])
    return next((message for message in history if message["id"] == wamid), {})


def test_a_spoken_request_for_a_person_is_a_handoff(media_service) -> None:
    service, graph, openai = media_service
    customer, voice = "5511987650001", b"OggS-voice-note-" * 500
    graph.add_media("7651124751700001", voice, "audio/ogg; codecs=opus")
    openai.add_transcript(voice, "quero falar com uma pessoa")
    body = media_delivery("inbound_audio_voice.json", customer, "wamid.VOICE1", "7651124751700001", voice)
    assert service.post_webhook(body).status_code == 200
    wait_until(lambda: service.api("GET", f"/conversations/{customer}", ANA).json().get("status") == "waiting")
    message = customer_message(service, customer, "wamid.VOICE1")
    assert (message["type"], message["text"]) == ("audio", "quero falar com uma pessoa")
    media = message["media"]
    assert (media["status"], media["transcript"], media["size"]) == ("stored", "quero falar com uma pessoa", len(voice))
    served = service.api("GET", f"/media/{media['id']}", ANA)
    assert (served.status_code, served.content) == (200, voice)
    [(fields, upload)] = openai.transcription_forms()
    assert (fields["model"], upload) == ("gpt-4o-mini-transcribe", ("voice.ogg", voice))


def test_a_voice_note_that_cannot_be_heard_gets_a_polite_reply_and_a_person_offered(media_service) -> None:
    service, graph, openai = media_service
    customer, voice = "5511987650002", b"OggS-another-note-" * 400
    graph.add_media("7651124751700002", voice, "audio/ogg; codecs=opus")
    openai.script(TRANSCRIBE, server_error(), server_error())
    body = media_delivery("inbound_audio_voice.json", customer, "wamid.VOICE2", "7651124751700002", voice)
    assert service.post_webhook(body).status_code == 200
    reply = wait_until(lambda: next((b for b in graph.sent_messages() if b.get("to") == customer), None))
    assert reply["type"] == "interactive"
    assert reply["interactive"]["body"]["text"].startswith("Thanks, I got your audio 🎤 but I can't listen to it right now.")
    buttons = [button["reply"] for button in reply["interactive"]["action"]["buttons"]]
    assert buttons == [{"id": "/request_human", "title": "Talk to a person"}]
    media = wait_until(lambda: customer_message(service, customer, "wamid.VOICE2").get("media"))
    assert (media["status"], media["transcript"]) == ("stored", None)


def test_a_photo_is_stored_and_shown_in_the_history(media_service) -> None:
    service, graph, _ = media_service
    customer, photo = "5511987650003", b"\xff\xd8\xff\xe0-jpeg-" * 1000
    graph.add_media("1066183251700003", photo, "image/jpeg")
    body = media_delivery("inbound_image.json", customer, "wamid.PHOTO3", "1066183251700003", photo)
    assert service.post_webhook(body).status_code == 200
    wait_until(lambda: next((b for b in graph.sent_messages() if b.get("to") == customer), None))
    message = wait_until(lambda: customer_message(service, customer, "wamid.PHOTO3"))
    assert message["type"] == "image"
    assert {k: message["media"][k] for k in ("mime_type", "size", "status", "error")} == {
        "mime_type": "image/jpeg", "size": len(photo), "status": "stored", "error": None
    }
    assert service.api("GET", f"/media/{message['media']['id']}", ANA).content == photo
