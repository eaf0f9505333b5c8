"""Resolve → satisfaction question → the customer's tap is recorded → the bot answers again; STOP / START.

Over real HTTP with the trained model and the action server, on SQLite.
"""

from __future__ import annotations

import json
import time
from typing import List

import pytest

from supportdesk.platform.database import Database
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fixture_files import fixture_bytes
from tests.integration.service import RunningService, attendant_token, service_env, text_delivery

CUSTOMER = "16315551181"
ANA = attendant_token("ana")
QUESTION = "How satisfied are you with the help you got?"


def button_tap(customer: str, wamid: str, payload: str, title: str) -> bytes:
    """A reply-button tap (the fixture's shape): its id is the button's payload."""
    body = json.loads(fixture_bytes("inbound_interactive_button_reply.json"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update({"from": customer, "id": wamid, "timestamp": str(int(time.time()))})
    message["interactive"]["button_reply"] = {"id": payload, "title": title}
    return json.dumps(body).encode("utf-8")


def sent_texts(graph: FakeGraphApi) -> List[str]:
    """Bodies of text and interactive sends, in order."""
    found = []
    for body in graph.sent_messages():
        if body.get("type") == "text":
            found.append(body["text"]["body"])
        elif body.get("type") == "interactive":
            found.append(body["interactive"]["body"]["text"])
    return found


def wait_for(graph: FakeGraphApi, fragment: str, count: int = 1, timeout: float = 45.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sum(fragment in text for text in sent_texts(graph)) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} sends with {fragment!r}: {sent_texts(graph)}")


@pytest.fixture(scope="module")
def lifecycle_service(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("lifecycle")
    with FakeGraphApi() as graph:
        env = service_env(f"sqlite:///{tmp_path / 'lifecycle.db'}", graph.url + "/v24.0", WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN)
        service = RunningService(tmp_path / "service", env).start()
        try:
            yield service, graph
        finally:
            service.stop()


def test_resolve_asks_the_question_records_the_tap_and_the_bot_answers_again(lifecycle_service):
    service, graph = lifecycle_service
    assert service.post_webhook(text_delivery(CUSTOMER, "wamid.L1", "hello")).status_code == 200
    wait_for(graph, "virtual assistant")
    assert service.api("POST", f"/conversations/{CUSTOMER}/claim", ANA).status_code == 200
    resolved = service.api("POST", f"/conversations/{CUSTOMER}/resolve", ANA)
    assert (resolved.status_code, resolved.json()["status"]) == (200, "closed")
    wait_for(graph, QUESTION)

    assert service.post_webhook(button_tap(CUSTOMER, "wamid.L2", "/rate_satisfaction_good", "😀 Satisfied")).status_code == 200
    wait_for(graph, "Thank you for your answer")
    database = Database(service.env["DATABASE_URL"])
    try:
        assert database.execute("SELECT attendant_id, score FROM satisfaction") == [{"attendant_id": "ana", "score": 5}]
    finally:
        database.close()
    assert service.api("GET", f"/conversations/{CUSTOMER}", ANA).json()["status"] == "bot"


def test_stop_is_confirmed_once_and_start_brings_the_customer_back(lifecycle_service):
    service, graph = lifecycle_service
    customer = "16315550142"
    assert service.post_webhook(text_delivery(customer, "wamid.S1", "STOP")).status_code == 200
    wait_for(graph, "you won't get reminders")
    assert service.api("GET", f"/conversations/{customer}", ANA).json()["opted_out"] is True
    assert service.post_webhook(text_delivery(customer, "wamid.S2", "STOP")).status_code == 200
    assert service.post_webhook(text_delivery(customer, "wamid.S3", "START")).status_code == 200
    wait_for(graph, "Welcome back")
    assert sum("you won't get reminders" in text for text in sent_texts(graph)) == 1
    assert service.api("GET", f"/conversations/{customer}", ANA).json()["opted_out"] is False
