import dataclasses
import json
import logging
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import ActionAiAnswer
from supportdesk.knowledge.knowledge_base import KNOWLEDGE_DIRECTORY
from supportdesk.knowledge.openai_answers import OpenAiAnswers
from supportdesk.platform.settings import Settings
from supportdesk.platform.structured_logging import JsonFormatter
from tests.fakes.fake_openai import CHAT, DEFAULT_ANSWER, FAKE_API_KEY, FakeOpenAi, server_error

TRACKERS = Path(__file__).resolve().parent.parent / "fixtures" / "trackers"
NOW = 1715594700.0  # Monday 13 May 2024, 10:05 UTC, the time the tracker fixtures are written around
SENDER = "447700900123"
ACCESS_TOKEN = "EAAGtestaccesstoken1234567890abcdef"


def load_tracker(state: str) -> Tracker:
    return Tracker.from_dict(json.loads((TRACKERS / f"knowledge_question_{state}.json").read_text(encoding="utf-8")))


def replies(dispatcher: CollectingDispatcher) -> list:
    return [message["response"] or message["text"] for message in dispatcher.messages]


@pytest.fixture
def fake():
    with FakeOpenAi() as server:
        yield server


def settings_for(fake: FakeOpenAi, **changes) -> Settings:
    base = Settings(
        openai_api_key=FAKE_API_KEY,
        openai_base_url=fake.base_url,
        openai_timeout_seconds=2.0,
        whatsapp_access_token=ACCESS_TOKEN,
        business_timezone="Europe/London",
        ai_max_calls_per_hour=3,
        ai_context_turns=12,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
async def run_action(fake):
    """Runs `action_ai_answer` on a tracker fixture, against the fake, at `NOW`."""
    clients = []

    async def run(state: str, knowledge_directory: Path = KNOWLEDGE_DIRECTORY, **settings_changes):
        settings = settings_for(fake, **settings_changes)
        answers = OpenAiAnswers(settings, retry_delay_seconds=0)
        clients.append(answers)
        action = ActionAiAnswer(answers, knowledge_directory, settings, clock=lambda: NOW)
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, load_tracker(state), {})
        return dispatcher, events

    yield run
    for client in clients:
        await client.aclose()


async def test_answer_is_sent_as_text_and_resets_failures_and_sums_tokens(fake, run_action):
    fake.reply_text("Yes! Balayage starts at £130 and takes about three hours.")

    dispatcher, events = await run_action("new_customer")

    assert replies(dispatcher) == ["Yes! Balayage starts at £130 and takes about three hours."]
    assert events == [SlotSet("knowledge_failures", 0.0), SlotSet("knowledge_tokens_used", 150.0)]


async def test_request_carries_knowledge_name_time_and_customer_bot_and_attendant_turns(fake, run_action):
    await run_action("after_attendant_reply")

    [body] = fake.chat_bodies()
    system, *history = body["messages"]
    assert system["role"] == "system"
    assert "The customer's WhatsApp name: Ana" in system["content"]
    assert "Current date and time at the salon: Monday 13 May 2024, 11:05" in system["content"]
    assert "Monday to Friday: 9:00 to 18:00" in system["content"]
    assert "Fringe trim: £8" in system["content"]
    assert history == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "Hi! I'm the Studio Lumen assistant. How can I help?"},
        {"role": "user", "content": "Talk to a person"},
        {
            "role": "assistant",
            "content": "[Attendant] Hi Ana, this is Marta from the front desk. Your colour is booked for Friday at 10.",
        },
        {"role": "user", "content": "thanks! can i get a fringe trim the same day?"},
    ]
    assert [tool["function"]["name"] for tool in body["tools"]] == ["request_human", "schedule_appointment"]
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("gpt-4o-mini", 0.3, 400)


async def test_context_is_limited_to_the_configured_number_of_turns(fake, run_action):
    await run_action("after_attendant_reply", ai_context_turns=2)

    [body] = fake.chat_bodies()
    assert [message["role"] for message in body["messages"]] == ["system", "assistant", "user"]


async def test_request_human_tool_call_hands_off_with_the_reason(fake, run_action):
    fake.reply_tool_call("request_human", {"reason": "Wants to complain about last week's colour"})

    dispatcher, events = await run_action("new_customer")

    assert replies(dispatcher) == []
    assert events == [
        SlotSet("knowledge_failures", 0.0),
        SlotSet("knowledge_tokens_used", 150.0),
        SlotSet("handoff_reason", "Wants to complain about last week's colour"),
        FollowupAction("action_request_handoff"),
    ]


async def test_schedule_tool_call_starts_the_appointment_form_with_the_time(fake, run_action):
    fake.reply_tool_call("schedule_appointment", {"requested_time": "2024-05-17T10:00"})

    dispatcher, events = await run_action("after_attendant_reply")

    assert replies(dispatcher) == []
    assert events == [
        SlotSet("knowledge_failures", 0.0),
        SlotSet("knowledge_tokens_used", 650.0),
        SlotSet("appointment_time", "2024-05-17T10:00"),
        FollowupAction("appointment_form"),
    ]


async def test_schedule_tool_call_without_a_time_leaves_the_slot_unset(fake, run_action):
    fake.reply_tool_call("schedule_appointment", {})

    dispatcher, events = await run_action("new_customer")

    assert events == [
        SlotSet("knowledge_failures", 0.0),
        SlotSet("knowledge_tokens_used", 150.0),
        FollowupAction("appointment_form"),
    ]


async def test_first_failure_apologises_and_counts_it(fake, run_action):
    fake.script(CHAT, server_error(), server_error())

    dispatcher, events = await run_action("new_customer")

    assert len(fake.requests) == 2
    assert replies(dispatcher) == ["utter_knowledge_unavailable"]
    assert events == [SlotSet("knowledge_failures", 1.0)]


async def test_second_failure_in_a_row_also_offers_a_person(fake, run_action):
    fake.script(CHAT, server_error(), server_error())

    dispatcher, events = await run_action("after_one_failure")

    assert replies(dispatcher) == ["utter_knowledge_unavailable", "utter_handoff_offer"]
    assert events == [SlotSet("knowledge_failures", 2.0)]


async def test_unusable_answer_falls_back_but_its_tokens_are_still_summed(fake, run_action):
    fake.reply_tool_call("delete_everything", {})

    dispatcher, events = await run_action("after_attendant_reply")

    assert replies(dispatcher) == ["utter_knowledge_unavailable"]
    assert events == [SlotSet("knowledge_failures", 1.0), SlotSet("knowledge_tokens_used", 650.0)]


async def test_no_key_falls_back_without_any_request(fake, run_action):
    dispatcher, events = await run_action("after_one_failure", openai_api_key=None)

    assert fake.requests == []
    assert replies(dispatcher) == ["utter_knowledge_unavailable", "utter_handoff_offer"]
    assert events == [SlotSet("knowledge_failures", 2.0)]


async def test_broken_knowledge_files_fall_back_without_any_request(fake, run_action, tmp_path, caplog):
    (tmp_path / "prompt.md").write_text("No placeholder here", encoding="utf-8")

    dispatcher, events = await run_action("new_customer", knowledge_directory=tmp_path)

    assert fake.requests == []
    assert replies(dispatcher) == ["utter_knowledge_unavailable"]
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == ["ai.knowledge.invalid"]


async def test_hourly_limit_offers_a_person_instead_of_calling_the_model(fake, run_action):
    dispatcher, events = await run_action("three_answers_this_hour", ai_max_calls_per_hour=3)

    assert fake.requests == []
    assert replies(dispatcher) == ["utter_knowledge_limit_reached"]
    assert events == []


async def test_calls_older_than_an_hour_do_not_count_towards_the_limit(fake, run_action):
    dispatcher, events = await run_action("three_answers_this_hour", ai_max_calls_per_hour=4)

    assert len(fake.requests) == 1
    assert replies(dispatcher) == [DEFAULT_ANSWER]
    assert events == [SlotSet("knowledge_failures", 0.0), SlotSet("knowledge_tokens_used", 900.0)]


async def test_token_usage_is_logged_with_the_running_total_and_no_text(fake, run_action, caplog):
    caplog.set_level(logging.INFO)
    usage = {"prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240}
    fake.reply_text("You can add a fringe trim for £8.", usage=usage)

    await run_action("after_attendant_reply")

    [record] = [r for r in caplog.records if r.message == "ai.answer.completed"]
    assert (record.levelname, record.sender, record.outcome) == ("INFO", "••••••••0123", "answer")
    assert (record.usage_prompt, record.usage_completion, record.usage_total) == (1200, 40, 1240)
    assert record.usage_conversation_total == 1740
    rendered = json.loads(JsonFormatter().format(record))  # field names avoid "token", which the formatter redacts
    assert (rendered["usage_total"], rendered["usage_conversation_total"]) == (1240, 1740)
    logged = " ".join(str(vars(r)) for r in caplog.records if r.levelno >= logging.INFO)
    for private in ("fringe trim", "Marta", SENDER):
        assert private not in logged


async def test_secrets_sender_id_and_pasted_credentials_never_reach_the_model(fake, run_action):
    await run_action("quoting_secrets")

    [request] = fake.requests
    sent = request.body.decode()
    assert ACCESS_TOKEN not in sent
    assert "eyJhbGciOiJIUzI1NiJ9" not in sent
    assert SENDER not in sent
    assert request.json()["messages"][-1] == {
        "role": "user",
        "content": "my cousin said to send you this: [redacted] and [redacted] does it work?",
    }


async def test_a_portuguese_conversation_asks_the_model_for_portuguese_and_sends_its_answer(fake, run_action):
    fake.reply_text("Fazemos sim! As luzes começam em £130 e levam cerca de três horas.")

    dispatcher, events = await run_action("portuguese_customer")

    [body] = fake.chat_bodies()
    system, question = body["messages"]
    assert system["role"] == "system"
    assert system["content"].endswith("\n\nAnswer in Brazilian Portuguese.")
    assert "Answer in English." not in system["content"]
    assert "The customer's WhatsApp name: Bruna" in system["content"]
    assert question == {"role": "user", "content": "oi, vcs fazem luzes? qto custa"}
    assert replies(dispatcher) == ["Fazemos sim! As luzes começam em £130 e levam cerca de três horas."]
    assert events == [SlotSet("knowledge_failures", 0.0), SlotSet("knowledge_tokens_used", 150.0)]


@pytest.mark.parametrize(
    "state, default_language, instruction",
    [
        ("new_customer", "en", "Answer in English."),  # no language slot yet: DEFAULT_LANGUAGE
        ("new_customer", "pt-BR", "Answer in Brazilian Portuguese."),
        ("portuguese_customer", "en", "Answer in Brazilian Portuguese."),  # the slot wins
    ],
)
async def test_the_answer_language_is_the_slot_else_the_default(fake, run_action, state, default_language, instruction):
    await run_action(state, default_language=default_language)

    [body] = fake.chat_bodies()
    assert body["messages"][0]["content"].endswith("\n\n" + instruction)


async def test_a_portuguese_customer_gets_the_fallback_as_a_domain_response(fake, run_action):
    """Rasa renders a response with the tracker's slots, so the pt-BR variation is the one sent."""
    fake.script(CHAT, server_error(), server_error())

    dispatcher, events = await run_action("portuguese_customer")

    assert dispatcher.messages == [
        {"text": None, "buttons": [], "elements": [], "custom": {}, "template": "utter_knowledge_unavailable",
         "response": "utter_knowledge_unavailable", "image": None, "attachment": None}
    ]
    assert events == [SlotSet("knowledge_failures", 1.0)]


async def test_the_prompt_states_the_opening_hours_from_business_hours(fake, run_action):
    """BUSINESS_HOURS is the one source of the hours: the AI reads them from the setting, not only the files."""
    await run_action("new_customer", business_hours="tue-sat 10:00-19:00")
    [body] = fake.chat_bodies()
    system = body["messages"][0]["content"]
    assert "Opening hours (these are the current ones; they win over any other mention of hours): " \
           "Tuesday–Saturday 10:00–19:00\n" in system
