"""Replays realistic WhatsApp conversations through the signed webhook of the real running service.

Each file in `tests/fixtures/conversations/` is one customer's conversation: what they type, turn
by turn, and exactly what they must receive at the fake Graph API in answer (a domain response by
name, rendered in the conversation's language, with the choices an action adds to it; a reply the fake OpenAI is scripted to give; or a
text the answer must contain, for answers that carry dates), then what the appointments API must
record for them. A turn that reaches the AI answer is seen at the fake OpenAI, so a message the
NLU forced onto an unrelated intent fails the replay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

import pytest
import yaml

from supportdesk.platform.responses import get_responses
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fakes.fake_openai import FAKE_API_KEY, FakeOpenAi
from tests.integration.service import RunningService, attendant_token, service_env, text_delivery, wait_settled

CONVERSATIONS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "conversations").glob("*.yml"))
ANA = attendant_token("ana")

Received = Tuple[str, Tuple[str, ...]]  # the text (or interactive body) and the titles of its choices


def received(graph: FakeGraphApi, customer: str) -> List[Received]:
    """Every message the customer received, in order: its text and the titles of its buttons or rows."""
    messages: List[Received] = []
    for body in graph.sent_messages():
        if body.get("to") != customer:
            continue
        if body.get("type") == "text":
            messages.append((body["text"]["body"], ()))
        elif body.get("type") == "interactive":
            interactive = body["interactive"]
            action = interactive.get("action", {})
            titles = [button["reply"]["title"] for button in action.get("buttons", [])]
            titles += [row["title"] for section in action.get("sections", []) for row in section.get("rows", [])]
            messages.append((interactive["body"]["text"], tuple(titles)))
    return messages


def expected_message(reply: Mapping[str, Any], language: str) -> Received:
    """What one expected reply of a fixture looks like at the Graph API."""
    if "response" in reply:
        rendered = get_responses().render(reply["response"], {"language": language}, **reply.get("values", {}))
        titles = reply.get("choices", [button["title"] for button in rendered.get("buttons") or []])
        return rendered.get("text") or "", tuple(titles)
    if "ai" in reply:
        return reply["ai"], ()
    raise ValueError(f"unknown expected reply {reply!r}")


def matches(got: Received, reply: Mapping[str, Any], language: str) -> bool:
    """Whether a received message is the expected reply."""
    if "contains" in reply:
        return all(fragment in got[0] for fragment in reply["contains"])
    return got == expected_message(reply, language)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("replay")
    with FakeGraphApi() as graph, FakeOpenAi() as openai:
        env = service_env(
            f"sqlite:///{tmp_path / 'replay.db'}", graph.url + "/v24.0",
            WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN, OPENAI_API_KEY=FAKE_API_KEY, OPENAI_BASE_URL=openai.base_url,
            DEFAULT_LANGUAGE="en",
        )
        running = RunningService(tmp_path / "service", env).start()
        try:
            yield running, graph, openai
        finally:
            running.stop()


def test_there_are_conversations_in_both_languages() -> None:
    languages = [yaml.safe_load(path.read_text(encoding="utf-8"))["language"] for path in CONVERSATIONS]
    assert len(CONVERSATIONS) >= 6 and {"en", "pt-BR"} <= set(languages)


@pytest.mark.parametrize("path", CONVERSATIONS, ids=lambda path: path.stem)
def test_conversation_replays_as_written(service, path: Path) -> None:
    running, graph, openai = service
    conversation: Dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    customer = str(conversation["customer"])
    for index, turn in enumerate(conversation["turns"]):
        language = turn.get("language", conversation["language"])
        replies = turn["replies"]
        for reply in replies:
            if "ai" in reply:
                openai.reply_text(reply["ai"])
        asked_before = len(openai.chat_bodies())
        before = len(received(graph, customer))
        delivery = text_delivery(customer, f"wamid.replay.{path.stem}.{index}", turn["customer"], name=conversation["name"])
        assert running.post_webhook(delivery).status_code == 200
        wait_settled(running.env["DATABASE_URL"])
        got = received(graph, customer)[before:]
        where = f"{path.name}, turn {index + 1} ({turn['customer']!r})"
        assert len(got) == len(replies), f"{where}: received {got}"
        for message, reply in zip(got, replies):
            assert matches(message, reply, language), f"{where}: received {message}, expected {reply}"
        assert len(openai.chat_bodies()) - asked_before == sum(1 for r in replies if "ai" in r), where

    listed = running.api("GET", "/appointments?status=requested", ANA).json()["appointments"]
    recorded = [(a["service"], a["starts_at"][11:19]) for a in listed if a["conversation_id"] == customer]
    wanted = [(a["service"], a["time"]) for a in conversation.get("appointments", [])]
    assert recorded == wanted
