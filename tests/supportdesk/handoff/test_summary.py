"""The summary on handoff through the real openai client against the fake OpenAI server; notes go to it, not to answers."""

from __future__ import annotations

import logging
import time

import pytest

from supportdesk.attendant.alerts import register_device
from supportdesk.attendant.notes import add_note
from supportdesk.attendant.push import PushResult
from supportdesk.handoff import state as handoff
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.handoff.summary import run_summaries
from supportdesk.knowledge.knowledge_base import current_knowledge
from supportdesk.knowledge.openai_answers import OpenAiAnswers
from supportdesk.knowledge.prompt import build_messages, business_time, turns_from_events
from supportdesk.messaging import stream_events
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.settings import Settings
from supportdesk.runtime import get_runtime
from tests.fakes.fake_openai import FAKE_API_KEY, FakeOpenAi

CUSTOMER = "5511987654321"
NOTE = "Regular customer; refund already approved by Bruno"
SUMMARY = "Kerry wants a refund for a cancelled class; the assistant could not help. Polite but impatient."


class RecordingPushSender:
    def __init__(self) -> None:
        self.sent = []

    async def send(self, token, message):
        self.sent.append((token, message))
        return PushResult(token=token, outcome="sent")


@pytest.fixture
def fake_openai():
    with FakeOpenAi() as server:
        yield server


def tracker_events(now: float) -> list:
    """The conversation as the Rasa tracker holds it (what the assistant's AI answers read)."""
    return [
        {"event": "user", "text": "I want my money back for the cancelled class", "timestamp": now - 120,
         "message_id": "wamid.R1", "metadata": {}},
        {"event": "bot", "text": "Let me get someone from the team.", "timestamp": now - 119, "metadata": {}},
    ]


def a_customer_waits_with_a_note() -> tuple:
    database = get_runtime().database
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO conversations (id, customer_name, last_inbound_at, last_message_at, created_at, updated_at) "
            "VALUES (?, 'Kerry', ?, ?, ?, ?)",
            (CUSTOMER, now, now, now, now),
        )
    add_note(database, CUSTOMER, "bruno", NOTE, now - 100)
    handoff.request_handoff(database, CUSTOMER, "asked for a refund", HandoffTimeouts(), now)
    register_device(database, "fcm-token-ana-000001", "android", "ana")
    events = tracker_events(now)

    async def tracker_history(_: str):
        return events

    return database, tracker_history, events


def settings_for(fake: FakeOpenAi) -> Settings:
    return Settings(openai_api_key=FAKE_API_KEY, openai_base_url=fake.base_url, openai_timeout_seconds=2.0)


async def test_a_new_wait_is_summarised_streamed_and_pushed_once(fake_openai, caplog):
    caplog.set_level(logging.INFO)
    database, tracker_history, _ = a_customer_waits_with_a_note()
    settings = settings_for(fake_openai)
    answers, pushes = OpenAiAnswers(settings), RecordingPushSender()
    fake_openai.reply_text(SUMMARY, usage={"prompt_tokens": 200, "completion_tokens": 40, "total_tokens": 240})
    assert await run_summaries(database, tracker_history, settings, lambda: pushes, answers) == 1
    assert (await database.run(load_conversation, database, CUSTOMER)).summary == SUMMARY
    [usage] = [r for r in caplog.records if r.getMessage() == "ai.summary.completed"]
    assert (usage.usage_prompt, usage.usage_completion, usage.usage_total, usage.sender) == (200, 40, 240, "•••••••••4321")
    [body] = fake_openai.chat_bodies()
    assert "tools" not in body and body["max_tokens"] == 160
    system, conversation = body["messages"]
    assert system["content"].endswith("Answer in English.")
    assert conversation["content"] == ("CUSTOMER: I want my money back for the cancelled class\n"
                                       f"ASSISTANT: Let me get someone from the team.\nNOTE: {NOTE}")
    updates = [e.data for e in stream_events.events_after(database, 0) if e.event == stream_events.CONVERSATION_UPDATED]
    assert updates[-1]["summary"] == SUMMARY
    [(token, push)] = pushes.sent
    assert (token, push.type, push.body) == ("fcm-token-ana-000001", "handoff", f"Kerry: {SUMMARY}")
    assert await run_summaries(database, tracker_history, settings, lambda: pushes, answers) == 0  # once per wait
    assert len(fake_openai.chat_bodies()) == 1 and len(pushes.sent) == 1
    await answers.aclose()


async def test_the_note_is_absent_from_the_ai_answer_prompt(fake_openai):
    """AI answers are built from the tracker alone, and a note never enters the tracker."""
    _, _, events = a_customer_waits_with_a_note()
    messages = build_messages(current_knowledge(), turns_from_events(events), "Kerry", business_time(time.time(), "UTC"))
    assert NOTE not in str(messages) and "I want my money back" in str(messages)


async def test_when_the_model_fails_the_push_keeps_todays_text(fake_openai):
    database, tracker_history, _ = a_customer_waits_with_a_note()
    settings = settings_for(fake_openai)
    answers, pushes = OpenAiAnswers(settings, retry_delay_seconds=0), RecordingPushSender()
    fake_openai.reply_text("")  # an empty answer: no summary
    assert await run_summaries(database, tracker_history, settings, lambda: pushes, answers) == 1
    assert (await database.run(load_conversation, database, CUSTOMER)).summary is None
    [(_, push)] = pushes.sent
    assert push.body == "Kerry: asked for a refund"
    await answers.aclose()


async def test_without_openai_nothing_is_summarised():
    database, tracker_history, _ = a_customer_waits_with_a_note()
    pushes = RecordingPushSender()
    assert await run_summaries(database, tracker_history, Settings(), lambda: pushes, OpenAiAnswers(Settings())) == 0
    assert (await database.run(load_conversation, database, CUSTOMER)).summary is None and pushes.sent == []
