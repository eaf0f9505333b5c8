import datetime
import json
from pathlib import Path

import pytest

from supportdesk.knowledge.knowledge_base import Knowledge, KnowledgeSection
from supportdesk.knowledge.prompt import (
    ATTENDANT,
    BOT,
    CUSTOMER,
    LANGUAGE_INSTRUCTIONS,
    ConversationTurn,
    build_messages,
    business_time,
    configured_secrets,
    conversation_language,
    customer_name_from,
    estimate_tokens,
    language_instruction,
    scrub_secrets,
    trim_to_budget,
    turns_from_events,
)
from supportdesk.platform.settings import SUPPORTED_LANGUAGES, Settings

TRACKERS = Path(__file__).resolve().parents[2] / "fixtures" / "trackers"
KNOWLEDGE = Knowledge(
    prompt_template="Assistant of Studio Lumen. Customer: {{customer_name}}. Now: {{now}}.\n{{knowledge}}",
    sections=(KnowledgeSection("hours", "Mon-Fri 9-18"), KnowledgeSection("prices", "Cut £48")),
)
NOW = datetime.datetime(2024, 5, 13, 11, 5, tzinfo=datetime.timezone.utc)
SYSTEM = (
    "Assistant of Studio Lumen. Customer: Ana. Now: Monday 13 May 2024, 11:05.\nMon-Fri 9-18\n\nCut £48"
    "\n\nAnswer in English."
)


def tracker_events(name: str) -> list:
    return json.loads((TRACKERS / name).read_text(encoding="utf-8"))["events"]


def test_turns_of_the_current_session_keep_customer_bot_and_attendant_apart():
    turns = turns_from_events(tracker_events("knowledge_question_after_attendant_reply.json"))

    assert turns == [
        ConversationTurn(CUSTOMER, "hello"),
        ConversationTurn(BOT, "Hi! I'm the Studio Lumen assistant. How can I help?"),
        ConversationTurn(CUSTOMER, "Talk to a person"),  # a tap on a button with payload /request_human
        ConversationTurn(
            ATTENDANT, "Hi Ana, this is Marta from the front desk. Your colour is booked for Friday at 10."
        ),
        ConversationTurn(CUSTOMER, "thanks! can i get a fringe trim the same day?"),
    ]


def test_restart_forgets_earlier_turns_and_empty_texts_are_skipped():
    events = [
        {"event": "user", "text": "old question"},
        {"event": "restart"},
        {"event": "bot", "text": "   "},
        {"event": "user", "text": None},
        {"event": "user", "text": " new question "},
    ]

    assert turns_from_events(events) == [ConversationTurn(CUSTOMER, "new question")]


def test_a_tap_without_a_button_title_is_left_out():
    events = [
        {"event": "bot", "text": "Shall I send this request?"},
        {"event": "user", "text": "/affirm", "metadata": {"reply": None}},
        {"event": "user", "text": "/deny"},
        {"event": "user", "text": "/affirm", "metadata": {"reply": {"id": "/affirm", "title": "Yes, send it"}}},
    ]

    assert turns_from_events(events) == [
        ConversationTurn(BOT, "Shall I send this request?"),
        ConversationTurn(CUSTOMER, "Yes, send it"),
    ]


def test_customer_name_is_the_latest_whatsapp_profile_name():
    events = [
        {"event": "user", "metadata": {"profile_name": "Ana"}},
        {"event": "bot", "metadata": {"profile_name": "not a customer"}},
        {"event": "user", "metadata": {"profile_name": "Ana Souza"}},
        {"event": "user", "metadata": {}},
    ]

    assert customer_name_from(events) == "Ana Souza"
    assert customer_name_from([{"event": "user"}]) is None


def test_token_estimate_is_a_quarter_of_the_characters_plus_message_overhead():
    assert estimate_tokens("") == 4
    assert estimate_tokens("abcd") == 5
    assert estimate_tokens("abcde") == 6


def test_trimming_keeps_the_newest_turns_that_fit():
    turns = [
        ConversationTurn(CUSTOMER, "a" * 40),
        ConversationTurn(BOT, "b" * 40),
        ConversationTurn(CUSTOMER, "c" * 40),
    ]

    assert trim_to_budget(turns, 28) == turns[1:]  # 14 tokens each
    assert trim_to_budget(turns, 42) == turns
    assert trim_to_budget(turns, 3) == turns[2:]  # the question itself is never dropped


def test_messages_are_the_system_prompt_then_the_turns_in_chat_roles():
    turns = [
        ConversationTurn(CUSTOMER, "hello"),
        ConversationTurn(BOT, "Hi! How can I help?"),
        ConversationTurn(ATTENDANT, "Marta here, booked you for Friday."),
        ConversationTurn(CUSTOMER, "how much is a cut?"),
    ]

    assert build_messages(KNOWLEDGE, turns, "Ana", NOW) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "Hi! How can I help?"},
        {"role": "assistant", "content": "[Attendant] Marta here, booked you for Friday."},
        {"role": "user", "content": "how much is a cut?"},
    ]


def test_only_the_last_turns_within_the_budget_are_sent():
    turns = [ConversationTurn(CUSTOMER, f"message {n}") for n in range(20)]

    last_three = build_messages(KNOWLEDGE, turns, "Ana", NOW, max_turns=3)
    within_budget = build_messages(KNOWLEDGE, turns, "Ana", NOW, history_token_budget=20)

    assert [m["content"] for m in last_three[1:]] == ["message 17", "message 18", "message 19"]
    assert [m["content"] for m in within_budget[1:]] == ["message 18", "message 19"]  # 7 tokens each


def test_secrets_and_credentials_never_reach_the_messages():
    settings = Settings(openai_api_key="sk-live-abcdefghijklmnopqrstuvwx", whatsapp_app_secret="app-secret-42")
    turns = [
        ConversationTurn(CUSTOMER, "key sk-live-abcdefghijklmnopqrstuvwx and app-secret-42"),
        ConversationTurn(ATTENDANT, "token EAAGm0PX4ZCpsBAKZBvZAgUZAc1a2b3c4d5e6f7, header Bearer abc.def.ghi12345"),
        ConversationTurn(CUSTOMER, "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_x"),
    ]

    messages = build_messages(KNOWLEDGE, turns, "Ana\napp-secret-42", NOW, secrets=configured_secrets(settings))

    assert messages[0]["content"].startswith("Assistant of Studio Lumen. Customer: Ana [redacted]. Now:")
    assert [m["content"] for m in messages[1:]] == [
        "key [redacted] and [redacted]",
        "[Attendant] token [redacted], header [redacted]",
        "jwt [redacted]",
    ]


def test_configured_secrets_lists_only_the_set_values():
    settings = Settings(openai_api_key="sk-abcdef", attendant_jwt_secret="jwt-secret", whatsapp_verify_token=None)

    assert configured_secrets(settings) == ["sk-abcdef", "jwt-secret"]


def test_scrubbing_leaves_ordinary_text_alone():
    text = "Can I book 2024-05-17 at 10:30 for a cut? My number is 07700 900123."

    assert scrub_secrets(text, ["app-secret-42"]) == text


def test_missing_or_long_customer_name_is_bounded():
    unnamed = build_messages(KNOWLEDGE, [], None, NOW)
    long_named = build_messages(KNOWLEDGE, [], "A" * 100, NOW)

    assert unnamed == [{"role": "system", "content": SYSTEM.replace("Customer: Ana.", "Customer: unknown.")}]
    assert "Customer: " + "A" * 60 + ". Now" in long_named[0]["content"]


def test_business_time_is_local_to_the_business_and_utc_when_the_zone_is_unknown():
    timestamp = 1715594700.0  # 2024-05-13 10:05 UTC

    assert business_time(timestamp, "Europe/London").strftime("%Y-%m-%d %H:%M %z") == "2024-05-13 11:05 +0100"
    assert business_time(timestamp, "Mars/Olympus").strftime("%Y-%m-%d %H:%M %z") == "2024-05-13 10:05 +0000"


@pytest.mark.parametrize(
    "language, last_line", [("en", "Answer in English."), ("pt-BR", "Answer in Brazilian Portuguese.")]
)
def test_the_system_prompt_ends_with_the_language_to_answer_in(language, last_line):
    turns = [ConversationTurn(CUSTOMER, "vcs fazem luzes?")]

    system, question = build_messages(KNOWLEDGE, turns, "Bruna", NOW, language=language)

    assert system["content"].endswith("Cut £48\n\n" + last_line)
    assert question == {"role": "user", "content": "vcs fazem luzes?"}


def test_every_supported_language_has_one_model_instruction():
    assert set(LANGUAGE_INSTRUCTIONS) == set(SUPPORTED_LANGUAGES)
    assert [language_instruction(language) for language in SUPPORTED_LANGUAGES] == [
        "Answer in English.", "Answer in Brazilian Portuguese."
    ]
    with pytest.raises(ValueError, match="'fr'"):
        language_instruction("fr")


@pytest.mark.parametrize(
    "slot, default, language",
    [("pt-BR", "en", "pt-BR"), ("en", "pt-BR", "en"), (None, "pt-BR", "pt-BR"), ("klingon", "en", "en")],
)
def test_the_conversation_language_falls_back_to_the_default_until_known(slot, default, language):
    assert conversation_language(slot, default) == language
