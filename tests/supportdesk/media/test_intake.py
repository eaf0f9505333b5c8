"""The worker's media step: what the dialogue gets for a voice note, a photo, a failure; the push preview."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from supportdesk.media.intake import SHARE_AUDIO, MediaIntake
from supportdesk.media.records import load_media
from supportdesk.media.store import FileMediaStore
from supportdesk.media.transcription import Transcriber
from supportdesk.messaging.turn_processor import TurnInput, stream_messages
from supportdesk.platform.database import Database
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.settings import Settings
from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.payload import parse_webhook
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fakes.fake_openai import FAKE_API_KEY, TRANSCRIBE, FakeOpenAi, server_error
from tests.fixture_files import PHONE_NUMBER_ID, fixture_bytes
from tests.supportdesk.media.test_download import inbound, media_bytes, row_of

POLICY = RetryPolicy(max_attempts=3, base_seconds=0.0, cap_seconds=0.0)


@pytest.fixture
def graph_fake() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAi]:
    with FakeOpenAi() as server:
        yield server


@pytest.fixture
async def intake(database: Database, tmp_path: Path, graph_fake: FakeGraphApi, openai_fake: FakeOpenAi) -> Iterator[MediaIntake]:
    graph = GraphApiClient(graph_fake.url + "/v24.0", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=5.0)
    transcriber = Transcriber(Settings(openai_api_key=FAKE_API_KEY, openai_base_url=openai_fake.base_url))
    yield MediaIntake(database, FileMediaStore(tmp_path / "media"), graph, POLICY, transcriber)
    await graph.close()
    await transcriber.aclose()


def voice_note(graph_fake: FakeGraphApi):
    data = media_bytes("audio", 4000)
    message = inbound("audio", data)
    graph_fake.add_media(message.media.media_id, data, "audio/ogg; codecs=opus")
    return data, message


async def test_a_voice_note_reaches_the_dialogue_as_its_transcript(intake, graph_fake, openai_fake, database) -> None:
    data, message = voice_note(graph_fake)
    openai_fake.add_transcript(data, "quero falar com uma pessoa")
    turn = await intake.before_turn(row_of(message))
    assert turn.text == "quero falar com uma pessoa"
    media_id = turn.media["id"]
    assert turn.metadata["media_file"]["transcript"] == "quero falar com uma pessoa"
    assert turn.metadata["media_file"]["status"] == "stored"
    assert turn.media == {
        "id": media_id,
        "mime_type": "audio/ogg; codecs=opus",
        "size": 4000,
        "filename": None,
        "caption": None,
        "transcript": "quero falar com uma pessoa",
        "url": f"/webhooks/attendant/media/{media_id}",
        "status": "stored",
        "error": None,
    }
    assert load_media(database, media_id).transcript == "quero falar com uma pessoa"
    assert await intake.preview(row_of(message)) == "🎤 Voice message: quero falar com uma pessoa"


async def test_a_voice_note_nobody_could_transcribe_is_share_audio(intake, graph_fake, openai_fake) -> None:
    _, message = voice_note(graph_fake)
    openai_fake.script(TRANSCRIBE, server_error(), server_error())
    turn = await intake.before_turn(row_of(message))
    assert (turn.text, turn.media["status"], turn.media["transcript"]) == (SHARE_AUDIO, "stored", None)
    assert await intake.preview(row_of(message)) == "🎤 Voice message"


async def test_a_voice_note_that_could_not_be_downloaded_is_share_audio(intake, openai_fake) -> None:
    message = inbound("audio", media_bytes("audio"))  # unknown to the fake Graph API
    turn = await intake.before_turn(row_of(message))
    assert (turn.text, turn.media["status"]) == (SHARE_AUDIO, "failed")
    assert openai_fake.requests == []


async def test_a_transcript_never_becomes_an_intent_payload(intake, graph_fake, openai_fake) -> None:
    data, message = voice_note(graph_fake)
    openai_fake.add_transcript(data, "/restart please")
    assert (await intake.before_turn(row_of(message))).text == "restart please"


async def test_a_photo_keeps_its_caption_as_the_text(intake, graph_fake, openai_fake) -> None:
    data = media_bytes("image")
    message = inbound("image", data)
    graph_fake.add_media(message.media.media_id, data, "image/jpeg")
    turn = await intake.before_turn(row_of(message))
    assert turn.text is None and turn.media["caption"] == "This is the style I'd like"
    assert openai_fake.requests == []  # only audio is transcribed
    assert await intake.preview(row_of(message)) == message.preview


async def test_a_text_message_has_no_media_step(intake) -> None:
    message = parse_webhook(fixture_bytes("inbound_text.json")).messages[0]
    assert await intake.before_turn(row_of(message)) is None


def test_the_stream_shows_a_voice_note_s_transcript_and_media() -> None:
    message = inbound("audio", media_bytes("audio"))
    media = {"id": "m_1", "transcript": "quero falar com uma pessoa", "status": "stored"}
    turn = TurnInput(text="quero falar com uma pessoa", media=media)
    customer, reply = stream_messages(row_of(message), [{"text": "One moment"}], 1_800_000_000.0, turn)
    assert (customer["type"], customer["text"], customer["media"]) == ("audio", "quero falar com uma pessoa", media)
    assert "media" not in reply
    unheard = stream_messages(row_of(message), [], 1_800_000_000.0, TurnInput(text=SHARE_AUDIO, media=media))[0]
    assert unheard["text"] == message.preview  # never the `/share_audio` payload
    assert "media" not in stream_messages(row_of(message), [], 1_800_000_000.0)[0]
