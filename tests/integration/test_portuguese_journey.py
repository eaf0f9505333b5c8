"""A Brazilian customer's whole journey over real HTTP, and every message they receive is Portuguese.

They greet, ask for a person, are handed off and released, then book an appointment; the
appointments API records the request. Each text the fake Graph API receives for them is read
by the same language detector the service uses: none may be English.
"""

from __future__ import annotations

from typing import List

import pytest

from supportdesk.messaging.language import ENGLISH, PORTUGUESE, guess_language
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.integration.service import RunningService, attendant_token, service_env, text_delivery, wait_settled

CUSTOMER = "5511987654321"
ANA = attendant_token("ana")


def received(graph: FakeGraphApi) -> List[str]:
    """Every text (plain or interactive body, with button titles) the customer received, in order."""
    texts = []
    for body in graph.sent_messages():
        if body.get("to") != CUSTOMER:
            continue
        if body.get("type") == "text":
            texts.append(body["text"]["body"])
        elif body.get("type") == "interactive":
            interactive = body["interactive"]
            titles = [b["reply"]["title"] for b in interactive.get("action", {}).get("buttons", [])]
            texts.append(" ".join([interactive["body"]["text"], *titles]))
    return texts


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("portuguese")
    with FakeGraphApi() as graph:
        env = service_env(
            f"sqlite:///{tmp_path / 'journey.db'}", graph.url + "/v24.0",
            WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN, BUSINESS_TIMEZONE="America/Sao_Paulo", DEFAULT_LANGUAGE="en",
        )
        running = RunningService(tmp_path / "service", env).start()
        try:
            yield running, graph
        finally:
            running.stop()


def say(service: RunningService, graph: FakeGraphApi, wamid: str, text: str) -> List[str]:
    """Send one customer message and return what they received in answer."""
    before = len(received(graph))
    assert service.post_webhook(text_delivery(CUSTOMER, wamid, text, name="Joana Silva")).status_code == 200
    wait_settled(service.env["DATABASE_URL"])
    return received(graph)[before:]


def test_a_portuguese_customer_is_answered_in_portuguese_from_greeting_to_booking(service):
    service, graph = service
    assert say(service, graph, "wamid.pt.1", "oi, tudo bem?"), "the greeting gets an answer"
    conversation = service.api("GET", f"/conversations/{CUSTOMER}", ANA).json()
    assert conversation["language"] == PORTUGUESE

    holding = say(service, graph, "wamid.pt.2", "qro falar c atendente pfv")
    assert holding, "the holding message"
    assert service.api("GET", f"/conversations/{CUSTOMER}", ANA).json()["status"] == "waiting"
    assert service.api("POST", f"/conversations/{CUSTOMER}/claim", ANA).status_code == 200
    assert service.api("POST", f"/conversations/{CUSTOMER}/messages", ANA, json={"text": "Oi Joana! Já te ajudo."}).status_code == 202
    assert service.api("POST", f"/conversations/{CUSTOMER}/release", ANA).status_code == 200
    wait_settled(service.env["DATABASE_URL"])

    asked = say(service, graph, "wamid.pt.3", "quero marcar um horário amanhã às 15h")
    assert asked, "the form asks what the appointment is for"
    confirm = say(service, graph, "wamid.pt.4", "corte de cabelo")
    assert confirm, "the form asks to confirm"
    done = say(service, graph, "wamid.pt.5", "sim")
    assert done, "the request is confirmed to the customer"

    requested = service.api("GET", "/appointments?status=requested", ANA).json()["appointments"]
    mine = [a for a in requested if a["conversation_id"] == CUSTOMER]
    assert len(mine) == 1 and mine[0]["service"] == "haircut"  # "corte de cabelo", matched to data/services.yml
    assert mine[0]["starts_at"].endswith("15:00:00-03:00")

    texts = received(graph)
    english = [text for text in texts if guess_language(text).language == ENGLISH]
    assert not english, f"English reached a Portuguese customer: {english}"
    portuguese = [text for text in texts if guess_language(text).language == PORTUGUESE]
    assert len(portuguese) >= len(texts) - 1, texts  # at most one message too short to tell (an emoji, a time)
