import dataclasses
import logging

import pytest

from supportdesk.knowledge.openai_answers import (
    TOOLS,
    AiOutcome,
    OpenAiAnswers,
    close_openai_answers,
    get_openai_answers,
    shorten_reply,
)
from supportdesk.platform.settings import Settings
from tests.fakes.fake_openai import (
    CHAT,
    DEFAULT_ANSWER,
    FAKE_API_KEY,
    FakeOpenAi,
    rate_limited,
    server_error,
    slow_answer,
)

MESSAGES = [
    {"role": "system", "content": "You are the assistant of Studio Lumen.\nMon-Fri 9-18"},
    {"role": "user", "content": "hello"},
    {"role": "assistant", "content": "[Attendant] Marta here."},
    {"role": "user", "content": "are you open saturday?"},
]
USAGE = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}


@pytest.fixture
def fake():
    with FakeOpenAi() as server:
        yield server


def settings_for(fake: FakeOpenAi, **changes) -> Settings:
    base = Settings(
        openai_api_key=FAKE_API_KEY,
        openai_base_url=fake.base_url,
        openai_model="gpt-4o-mini",
        openai_timeout_seconds=2.0,
        openai_max_tokens=300,
        openai_temperature=0.2,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
async def answers(fake):
    client = OpenAiAnswers(settings_for(fake), retry_delay_seconds=0)
    yield client
    await client.aclose()


async def test_text_answer_comes_back_with_its_usage(fake, answers):
    fake.reply_text("Yes, Saturday 9:00 to 13:00.")

    outcome = await answers.answer(MESSAGES)

    assert outcome == AiOutcome(kind="answer", text="Yes, Saturday 9:00 to 13:00.", **USAGE)


async def test_request_carries_key_model_settings_messages_and_tools(fake, answers):
    await answers.answer(MESSAGES)

    [request] = fake.requests
    body = request.json()
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["Authorization"] == f"Bearer {FAKE_API_KEY}"
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 300
    assert body["messages"] == MESSAGES
    assert body["tools"] == TOOLS
    assert body["tool_choice"] == "auto"
    assert [tool["function"]["name"] for tool in body["tools"]] == ["request_human", "schedule_appointment"]


async def test_request_human_tool_call_becomes_a_handoff(fake, answers):
    fake.reply_tool_call("request_human", {"reason": "Unhappy with\n her colour from last week"})

    outcome = await answers.answer(MESSAGES)

    assert outcome == AiOutcome(kind="handoff", reason="Unhappy with her colour from last week", **USAGE)


async def test_schedule_tool_call_becomes_a_schedule_with_the_time_understood(fake, answers):
    fake.reply_tool_call("schedule_appointment", {"requested_time": "2024-05-17T10:30"})
    fake.reply_tool_call("schedule_appointment", {})

    with_time = await answers.answer(MESSAGES)
    without_time = await answers.answer(MESSAGES)

    assert with_time == AiOutcome(kind="schedule", requested_time="2024-05-17T10:30", **USAGE)
    assert without_time == AiOutcome(kind="schedule", requested_time=None, **USAGE)


async def test_unknown_tool_without_text_is_unavailable_but_counts_tokens(fake, answers):
    fake.reply_tool_call("delete_everything", {})

    outcome = await answers.answer(MESSAGES)

    assert outcome == AiOutcome(kind="unavailable", reason="empty_answer", **USAGE)


async def test_long_reply_is_shortened_for_whatsapp(fake, answers):
    fake.reply_text("word " * 1000)

    outcome = await answers.answer(MESSAGES)

    assert len(outcome.text) == 4095
    assert outcome.text == ("word " * 819).rstrip() + "…"


def test_shorten_reply_cuts_at_a_word_near_the_limit_or_hard_otherwise():
    assert shorten_reply("short", limit=10) == "short"
    assert shorten_reply("exactly10!", limit=10) == "exactly10!"
    assert shorten_reply("aaaaaaaaa bbbbbbbbbb", limit=10) == "aaaaaaaaa…"
    assert shorten_reply("a " + "b" * 30, limit=10) == "a bbbbbbb…"


@pytest.mark.parametrize("failure", [rate_limited, server_error], ids=["429", "500"])
async def test_one_transient_error_is_retried_once(fake, answers, failure):
    fake.script(CHAT, failure())

    outcome = await answers.answer(MESSAGES)

    assert outcome == AiOutcome(kind="answer", text=DEFAULT_ANSWER, **USAGE)
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "failure, reason", [(rate_limited, "rate_limited"), (server_error, "server_error")], ids=["429", "500"]
)
async def test_two_transient_errors_make_the_answer_unavailable(fake, answers, failure, reason, caplog):
    fake.script(CHAT, failure(), failure(), failure())
    caplog.set_level(logging.WARNING, logger="supportdesk.knowledge.openai_answers")

    outcome = await answers.answer(MESSAGES)

    assert outcome == AiOutcome.unavailable(reason)
    assert len(fake.requests) == 2
    assert [(r.message, r.levelname, r.attempt) for r in caplog.records if r.name == "supportdesk.knowledge.openai_answers"] == [
        ("ai.request.retrying", "WARNING", 1),
        ("ai.request.failed", "WARNING", 2),
    ]


async def test_slow_answer_times_out_and_is_retried_once(fake):
    client = OpenAiAnswers(settings_for(fake, openai_timeout_seconds=0.5), retry_delay_seconds=0)
    fake.script(CHAT, slow_answer(1.5))
    try:
        outcome = await client.answer(MESSAGES)
    finally:
        await client.aclose()

    assert outcome == AiOutcome(kind="answer", text=DEFAULT_ANSWER, **USAGE)
    assert len(fake.requests) == 2
    fake.wait_for_answers(2)  # the slow answer too, so no handler is left behind


async def test_two_timeouts_make_the_answer_unavailable(fake):
    client = OpenAiAnswers(settings_for(fake, openai_timeout_seconds=0.5), retry_delay_seconds=0)
    fake.script(CHAT, slow_answer(1.5), slow_answer(1.5))
    try:
        outcome = await client.answer(MESSAGES)
    finally:
        await client.aclose()

    assert outcome == AiOutcome.unavailable("timeout")
    assert len(fake.requests) == 2
    fake.wait_for_answers(2)


async def test_rejected_key_is_not_retried_and_logged_without_the_key(fake, caplog):
    client = OpenAiAnswers(settings_for(fake, openai_api_key="sk-wrong-key-0000000000000000"), retry_delay_seconds=0)
    caplog.set_level(logging.DEBUG, logger="supportdesk.knowledge.openai_answers")
    try:
        outcome = await client.answer(MESSAGES)
    finally:
        await client.aclose()

    assert outcome == AiOutcome.unavailable("rejected")
    assert len(fake.requests) == 1
    [record] = [r for r in caplog.records if r.name == "supportdesk.knowledge.openai_answers"]
    assert (record.message, record.levelname, record.status, record.code) == (
        "ai.request.failed",
        "ERROR",
        401,
        "invalid_api_key",
    )
    assert "sk-wrong" not in str(vars(record))


async def test_unreachable_server_is_retried_once_then_unavailable():
    with FakeOpenAi() as stopped:
        closed_url = stopped.base_url
    client = OpenAiAnswers(
        Settings(openai_api_key=FAKE_API_KEY, openai_base_url=closed_url, openai_timeout_seconds=1.0),
        retry_delay_seconds=0,
    )
    try:
        outcome = await client.answer(MESSAGES)
    finally:
        await client.aclose()

    assert outcome == AiOutcome.unavailable("connection_error")


async def test_no_key_means_no_request(fake):
    client = OpenAiAnswers(settings_for(fake, openai_api_key=None), retry_delay_seconds=0)

    outcome = await client.answer(MESSAGES)

    assert outcome == AiOutcome.unavailable("no_api_key")
    assert client.configured is False
    assert fake.requests == []


async def test_the_process_wide_client_is_closed_at_shutdown(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    get_openai_answers.cache_clear()
    await close_openai_answers()  # none made yet: nothing is built just to be closed
    assert get_openai_answers.cache_info().currsize == 0
    answers = get_openai_answers()
    fake.reply_text("Open until six.")
    assert (await answers.answer(MESSAGES)).text == "Open until six."
    http_client = answers._client

    await close_openai_answers()

    assert http_client.is_closed() and answers._client is None
    assert get_openai_answers.cache_info().currsize == 0
