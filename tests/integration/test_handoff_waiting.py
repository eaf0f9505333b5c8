"""Issue 14 through the webhook: an order is acknowledged before the handoff, and waiting is not silence.

A catalog order gets its acknowledgement and then the holding message; while the customer waits the
assistant keeps answering (the hours, from BUSINESS_HOURS) and reminds them a person will take over;
everything said meanwhile is in the history the attendant opens; the claim starts the silence.
"""

from __future__ import annotations

import json
import time
from typing import List

import pytest

from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fixture_files import fixture_bytes
from tests.integration.service import RunningService, attendant_token, service_env, text_delivery, wait_for_turn

ANA = attendant_token("ana")
ENGLISH_CUSTOMER = "16315551191"
ORDERING_CUSTOMER = "5511987654321"  # João, the catalog order fixture


def order_delivery(wamid: str) -> bytes:
    """The Cloud API catalog order fixture (João), sent now."""
    body = json.loads(fixture_bytes("inbound_order.json"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update({"id": wamid, "timestamp": str(int(time.time()))})
    return json.dumps(body).encode("utf-8")


def texts_to(graph: FakeGraphApi, customer: str) -> List[str]:
    return [body["text"]["body"] for body in graph.sent_messages() if body.get("type") == "text" and body["to"] == customer]


def wait_for_texts(graph: FakeGraphApi, customer: str, count: int, timeout: float = 30.0) -> List[str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        sent = texts_to(graph, customer)
        if len(sent) >= count:
            return sent
        time.sleep(0.1)
    raise AssertionError(f"expected {count} texts to {customer}; got {texts_to(graph, customer)}")



@pytest.fixture(scope="module")
def waiting_service(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("handoff-waiting")
    with FakeGraphApi() as graph:
        env = service_env(f"sqlite:///{tmp_path / 'waiting.db'}", graph.url + "/v24.0", WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN)
        service = RunningService(tmp_path / "service", env).start()
        try:
            yield service, graph
        finally:
            service.stop()


def test_an_order_is_acknowledged_then_held(waiting_service):
    """The order's note is not read for the language (the order's text is `/place_order`): DEFAULT_LANGUAGE."""
    service, graph = waiting_service
    assert service.post_webhook(order_delivery("wamid.ORDER1")).status_code == 200
    assert len(wait_for_turn(service, "wamid.ORDER1")) == 2  # both queued; both delivered below, none suppressed
    acknowledgement, holding = wait_for_texts(graph, ORDERING_CUSTOMER, 2)
    assert acknowledgement == (
        "Thanks for your order 🛒 A person from our team will check the items and availability with you here in a moment."
    )
    assert holding.startswith("Got it 👍 I've asked a person from our team to join this chat.")
    conversation = service.api("GET", f"/conversations/{ORDERING_CUSTOMER}", ANA).json()
    assert (conversation["status"], conversation["handoff_reason"]) == ("waiting", "placed an order")


def test_waiting_is_not_silence_until_an_attendant_claims(waiting_service):
    service, graph = waiting_service
    customer = ENGLISH_CUSTOMER
    service.post_webhook(text_delivery(customer, "wamid.W1", "i want to talk to a person"))
    assert wait_for_texts(graph, customer, 1)[0].startswith("Got it 👍 I've asked a person from our team")

    service.post_webhook(text_delivery(customer, "wamid.W2", "when are you open?"))
    assert len(wait_for_turn(service, "wamid.W2")) == 1
    hours = wait_for_texts(graph, customer, 2)[1]
    assert hours == "Our opening hours: Monday–Sunday 00:00–24:00 🕘 We're open right now, until 24:00."

    service.post_webhook(text_delivery(customer, "wamid.W3", "i want to talk to a person"))
    assert len(wait_for_turn(service, "wamid.W3")) == 1
    assert wait_for_texts(graph, customer, 3)[2].startswith("You're in the queue 🙏")
    service.post_webhook(text_delivery(customer, "wamid.W3b", "hello?? anyone there"))
    assert len(wait_for_turn(service, "wamid.W3b")) == 1
    assert wait_for_texts(graph, customer, 4)[3].startswith("You're in the queue 🙏")  # not "Hi! I'm the assistant"
    assert service.api("GET", f"/conversations/{customer}", ANA).json()["status"] == "waiting"

    history = service.api("GET", f"/conversations/{customer}/messages", ANA).json()["messages"]
    turns = [(message["sender"], message["text"]) for message in history]
    assert ("customer", "when are you open?") in turns and ("bot", hours) in turns
    assert turns.index(("customer", "when are you open?")) < turns.index(("bot", hours))

    assert service.api("POST", f"/conversations/{customer}/claim", ANA).status_code == 200
    service.post_webhook(text_delivery(customer, "wamid.W4", "hello? anyone there"))
    assert wait_for_turn(service, "wamid.W4") == []  # a person holds the customer: the assistant is silent
    assert len(texts_to(graph, customer)) == 4
