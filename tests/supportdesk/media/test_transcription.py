"""Voice notes through the real openai client against the fake OpenAI's `/v1/audio/transcriptions`."""

from __future__ import annotations

import json
import logging
from typing import Iterator

import pytest

from supportdesk.media.transcription import Transcriber, audio_filename
from supportdesk.platform.settings import Settings
from tests.fakes.fake_openai import DEFAULT_TRANSCRIPT, FAKE_API_KEY, TRANSCRIBE, FakeOpenAi, server_error

CUSTOMER = "5511987654321"
VOICE = b"OggS\x00\x02" + bytes(range(256)) * 20


@pytest.fixture
def fake() -> Iterator[FakeOpenAi]:
    with FakeOpenAi() as server:
        yield server


@pytest.fixture
async def transcriber(fake: FakeOpenAi) -> Iterator[Transcriber]:
    settings = Settings(openai_api_key=FAKE_API_KEY, openai_base_url=fake.base_url, openai_timeout_seconds=5.0)
    speaker = Transcriber(settings)
    yield speaker
    await speaker.aclose()


async def test_a_voice_note_becomes_its_words(fake, transcriber, caplog) -> None:
    fake.add_transcript(VOICE, "quero falar com uma pessoa")
    caplog.set_level(logging.INFO, logger="supportdesk.media")
    spoken = await transcriber.transcribe(VOICE, "audio/ogg; codecs=opus", CUSTOMER)
    assert spoken.text == "quero falar com uma pessoa"
    assert (spoken.input_tokens, spoken.output_tokens, spoken.total_tokens) == (13, 6, 19)
    [(fields, upload)] = fake.transcription_forms()
    assert fields == {"model": "gpt-4o-mini-transcribe"}
    assert upload == ("voice.ogg", VOICE)
    [record] = [r for r in caplog.records if r.getMessage() == "ai.transcription.completed"]
    assert (record.model, record.usage_prompt, record.usage_completion, record.usage_total) == (
        "gpt-4o-mini-transcribe", 13, 6, 19
    )
    assert CUSTOMER not in json.dumps(record.__dict__, default=str) and "quero" not in json.dumps(record.__dict__, default=str)


async def test_the_configured_model_is_used(fake) -> None:
    settings = Settings(
        openai_api_key=FAKE_API_KEY, openai_base_url=fake.base_url, openai_transcription_model="whisper-1"
    )
    spoken = await Transcriber(settings).transcribe(VOICE, "audio/mpeg", CUSTOMER)
    assert spoken.text == DEFAULT_TRANSCRIPT
    [(fields, upload)] = fake.transcription_forms()
    assert (fields["model"], upload[0]) == ("whisper-1", "voice.mp3")


async def test_without_a_key_nothing_is_sent(fake) -> None:
    assert await Transcriber(Settings(openai_base_url=fake.base_url)).transcribe(VOICE, "audio/ogg", CUSTOMER) is None
    assert fake.requests == []


async def test_a_failure_gives_no_transcript(fake, transcriber) -> None:
    fake.script(TRANSCRIBE, server_error(), server_error())  # the client's one retry meets the second
    assert await transcriber.transcribe(VOICE, "audio/ogg", CUSTOMER) is None
    assert len(fake.transcription_forms()) == 2


async def test_a_format_openai_refuses_gives_no_transcript(fake, transcriber) -> None:
    assert await transcriber.transcribe(VOICE, "audio/amr", CUSTOMER) is None
    [(_, upload)] = fake.transcription_forms()
    assert upload[0] == "voice.amr"


async def test_silence_gives_no_transcript(fake, transcriber) -> None:
    fake.add_transcript(VOICE, "   ")
    assert await transcriber.transcribe(VOICE, "audio/ogg", CUSTOMER) is None


def test_file_names_tell_openai_the_format() -> None:
    assert [audio_filename(m) for m in ("audio/ogg; codecs=opus", "audio/mp4", "audio/aac", None)] == [
        "voice.ogg", "voice.m4a", "voice.m4a", "voice.ogg"
    ]
