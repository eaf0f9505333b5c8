"""A captionless photo reaches the AI answer as an image input (a data: URL content part) within its budget."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import Iterator

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import ActionAiAnswer
from supportdesk.knowledge.openai_answers import OpenAiAnswers
from supportdesk.media.image_input import ASK_QUESTION, image_part, latest_media_file, with_image
from supportdesk.media.intake import turn_input
from supportdesk.media.records import MediaRecord
from supportdesk.media.store import FileMediaStore
from supportdesk.platform.settings import Settings
from tests.fakes.fake_openai import FAKE_API_KEY, FakeOpenAi
from tests.supportdesk.media.test_download import inbound, media_bytes

PHOTO = b"\xff\xd8\xff\xe0" + media_bytes("image", 2000)
NOW = 1715594700.0


def stored_photo(tmp_path: Path, **changes) -> dict:
    store = FileMediaStore(tmp_path / "media")
    store.put("h/2024/05/m_photo", PHOTO, "image/jpeg")
    media_file = {"id": "m_photo", "status": "stored", "transcript": None, "mime_type": "image/jpeg",
                  "size": len(PHOTO), "storage_key": "h/2024/05/m_photo"}
    return {**media_file, **changes}


def captionless_photo():
    message = inbound("image", PHOTO)
    return dataclasses.replace(message, media=dataclasses.replace(message.media, caption=None))


def test_a_captionless_stored_photo_is_a_question_for_the_ai_only_when_openai_is_configured() -> None:
    message = captionless_photo()
    record = MediaRecord("m_photo", message.customer_id, message.wamid, "customer", mime_type="image/jpeg",
                         size=len(PHOTO), storage_key="h/2024/05/m_photo", status="stored")
    assert turn_input(message, record, ai_sees_images=True).text == ASK_QUESTION
    assert turn_input(message, record, ai_sees_images=False).text is None
    assert turn_input(message, dataclasses.replace(record, status="failed"), ai_sees_images=True).text is None
    captioned = inbound("image", PHOTO)
    assert turn_input(captioned, record, ai_sees_images=True).text is None  # the caption is the text


def test_the_image_part_is_a_data_url(tmp_path: Path) -> None:
    part = image_part(stored_photo(tmp_path), (tmp_path / "media").as_uri())
    assert part == {
        "type": "image_url",
        "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(PHOTO).decode(), "detail": "low"},
    }
    assert image_part(stored_photo(tmp_path, status="failed"), (tmp_path / "media").as_uri()) is None
    assert image_part(stored_photo(tmp_path, mime_type="image/gif"), (tmp_path / "media").as_uri()) is None
    assert image_part(stored_photo(tmp_path, storage_key="h/2024/05/gone"), (tmp_path / "media").as_uri()) is None
    assert with_image([{"role": "system", "content": "x"}], None) == [{"role": "system", "content": "x"}]


def test_only_the_last_customer_turn_counts() -> None:
    events = [{"event": "user", "metadata": {"media_file": {"id": "m_1"}}}, {"event": "user", "metadata": {}}]
    assert latest_media_file(events) is None
    assert latest_media_file(events[:1]) == {"id": "m_1"}


@pytest.fixture
def fake() -> Iterator[FakeOpenAi]:
    with FakeOpenAi() as server:
        yield server


async def test_the_ai_answer_sees_the_photo(fake: FakeOpenAi, tmp_path: Path) -> None:
    settings = Settings(openai_api_key=FAKE_API_KEY, openai_base_url=fake.base_url, business_timezone="UTC",
                        media_storage_url=(tmp_path / "media").as_uri())
    fake.reply_text("The box looks crushed at one corner; I'm sorry! Shall I get a person to arrange a replacement?")
    events = [
        {"event": "action", "name": "action_listen", "timestamp": NOW - 1},
        {"event": "user", "text": ASK_QUESTION, "timestamp": NOW, "parse_data": {"intent": {"name": "ask_question"}},
         "metadata": {"message_type": "image", "media_file": stored_photo(tmp_path)}},
    ]
    tracker = Tracker("5511987654321", {}, {"intent": {"name": "ask_question"}}, events, False, None, {}, "action_listen")
    answers = OpenAiAnswers(settings, retry_delay_seconds=0)
    dispatcher = CollectingDispatcher()
    try:
        await ActionAiAnswer(answers, settings=settings, clock=lambda: NOW).run(dispatcher, tracker, {})
    finally:
        await answers.aclose()
    [body] = fake.chat_bodies()
    assert body["messages"][-1] == {"role": "user", "content": [image_part(stored_photo(tmp_path), settings.media_storage_url)]}
    assert [m["text"] for m in dispatcher.messages] == [
        "The box looks crushed at one corner; I'm sorry! Shall I get a person to arrange a replacement?"
    ]
