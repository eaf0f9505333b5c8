"""The whole handoff over real HTTP, on SQLite and PostgreSQL.

Customer asks for a person → push → two attendants race to claim (one 409) → the customer
writes, the bot stays silent, the attendant sees it on the stream → the attendant replies and
the fake Graph API receives it → release → the bot answers again.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List

import pytest
import requests

from supportdesk.platform.database import Database
from tests.fakes.fake_fcm import FakeFcm
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.integration.service import RunningService, attendant_token, service_env, text_delivery, wait_for_turn

CUSTOMER = "16315551181"
ANA, BRUNO = attendant_token("ana"), attendant_token("bruno")


class StreamReader:
    """Reads an SSE stream in a thread and keeps the parsed events."""

    def __init__(self, url: str, token: str) -> None:
        self.events: List[dict] = []
        self._response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, stream=True, timeout=30)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event: dict = {}
        try:
            for line in self._response.iter_lines(decode_unicode=True):
                if line == "":
                    if "data" in event:
                        self.events.append({**event, "data": json.loads(event["data"])})
                    event = {}
                elif not line.startswith(":"):
                    key, _, value = line.partition(": ")
                    event[key] = value
        except Exception:
            pass

    def wait_for(self, predicate, timeout: float = 15.0) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for event in list(self.events):
                if predicate(event):
                    return event
            time.sleep(0.1)
        raise AssertionError(f"no matching stream event; got {[e['event'] for e in self.events]}")

    def close(self) -> None:
        self._response.close()


def texts_sent(graph: FakeGraphApi) -> List[str]:
    return [body["text"]["body"] for body in graph.sent_messages() if body.get("type") == "text"]


def wait_for_text(graph: FakeGraphApi, fragment: str, timeout: float = 30.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for text in texts_sent(graph):
            if fragment in text:
                return text
        time.sleep(0.1)
    raise AssertionError(f"no reply containing {fragment!r}; sent: {texts_sent(graph)}")



@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def journey_service(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp(f"journey-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'journey.db'}"
    else:
        database_url = request.getfixturevalue("module_postgres_url")
    with FakeGraphApi() as graph, FakeFcm() as fcm:
        account = fcm.write_service_account(tmp_path)
        env = service_env(
            database_url,
            graph.url + "/v24.0",
            WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN,
            FCM_SERVICE_ACCOUNT_FILE=str(account),
            FCM_API_URL=fcm.url,
        )
        service = RunningService(tmp_path / "service", env).start()
        try:
            yield service, graph, fcm
        finally:
            service.stop()


def test_customer_to_attendant_and_back(journey_service):
    service, graph, fcm = journey_service
    assert service.api("POST", "/devices", ANA, json={"token": "fcm-token-ana-000001", "platform": "android"}).status_code == 201

    assert service.post_webhook(text_delivery(CUSTOMER, "wamid.J1", "hello")).status_code == 200
    wait_for_text(graph, "virtual assistant")

    assert service.post_webhook(text_delivery(CUSTOMER, "wamid.J2", "i want to talk to a person")).status_code == 200
    holding = wait_for_text(graph, "asked a person from our team")
    assert "{expected_wait}" not in holding
    push = fcm.wait_for_requests(1, timeout=15, path_contains="messages:send")[0].json()["message"]
    assert push["data"] == {"type": "handoff", "conversation_id": CUSTOMER}
    assert CUSTOMER not in json.dumps(push["notification"])
    waiting = service.api("GET", "/conversations?status=waiting", ANA).json()["conversations"]
    assert [(c["id"], c["status"], c["customer_name"]) for c in waiting] == [(CUSTOMER, "waiting", "Kerry Fisher")]

    stream = StreamReader(f"{service.url}/webhooks/attendant/stream", BRUNO)
    try:
        with ThreadPoolExecutor(2) as pool:
            claims = list(pool.map(lambda token: service.api("POST", f"/conversations/{CUSTOMER}/claim", token), [ANA, BRUNO]))
        assert sorted(response.status_code for response in claims) == [200, 409]
        winner = ANA if claims[0].status_code == 200 else BRUNO
        loser = BRUNO if winner == ANA else ANA
        holder_id = "ana" if winner == ANA else "bruno"
        assert service.api("GET", f"/conversations/{CUSTOMER}", loser).json()["assigned_to"] == holder_id
        stream.wait_for(lambda e: e["event"] == "conversation.updated" and e["data"]["status"] == "human")

        sends_before = len(graph.sent_messages())
        assert service.post_webhook(text_delivery(CUSTOMER, "wamid.J3", "hello? is anyone there")).status_code == 200
        seen = stream.wait_for(lambda e: e["event"] == "message.created" and e["data"]["id"] == "wamid.J3")
        assert seen["data"]["sender"] == "customer" and seen["data"]["text"] == "hello? is anyone there"
        turn = wait_for_turn(service, "wamid.J3")
        assert turn == [], "the bot must stay silent while a person holds it"
        assert len(graph.sent_messages()) == sends_before

        assert service.api("POST", f"/conversations/{CUSTOMER}/messages", loser, json={"text": "me too"}).status_code == 409
        assert service.api("POST", f"/conversations/{CUSTOMER}/messages", winner, json={"text": "  "}).status_code == 400
        assert service.api("POST", "/conversations/000/messages", winner, json={"text": "hi"}).status_code == 404
        sent = service.api("POST", f"/conversations/{CUSTOMER}/messages", winner, json={"text": "Hi Kerry, how can I help?"})
        assert sent.status_code == 202
        message_id = sent.json()["id"]
        wait_for_text(graph, "Hi Kerry, how can I help?")
        stream.wait_for(lambda e: e["event"] == "message.status" and e["data"]["id"] == message_id and e["data"]["status"] == "sent")

        history = service.api("GET", f"/conversations/{CUSTOMER}/messages", loser).json()["messages"]
        turns = [(m["sender"], m["text"]) for m in history]
        assert ("customer", "hello? is anyone there") in turns
        attendant_turn = next(m for m in history if m["id"] == message_id)
        assert (attendant_turn["sender"], attendant_turn["attendant_id"], attendant_turn["status"]) == ("attendant", holder_id, "sent")
        assert [m["id"] for m in history].index("wamid.J3") < [m["id"] for m in history].index(message_id)
        after = service.api("GET", f"/conversations/{CUSTOMER}/messages?after=wamid.J3", loser).json()["messages"]
        assert [m["id"] for m in after] == [message_id]

        assert service.api("POST", f"/conversations/{CUSTOMER}/release", loser).status_code == 409
        released = service.api("POST", f"/conversations/{CUSTOMER}/release", winner)
        assert released.status_code == 200 and released.json()["status"] == "bot"
        wait_for_text(graph, "back with the virtual assistant")
    finally:
        stream.close()

    greetings = len([t for t in texts_sent(graph) if "I'm the virtual assistant" in t])
    assert service.post_webhook(text_delivery(CUSTOMER, "wamid.J4", "hi")).status_code == 200
    deadline = time.time() + 30
    while len([t for t in texts_sent(graph) if "I'm the virtual assistant" in t]) == greetings and time.time() < deadline:
        time.sleep(0.1)
    assert len([t for t in texts_sent(graph) if "I'm the virtual assistant" in t]) == greetings + 1


def test_api_refuses_bad_tokens_and_input(journey_service):
    service, _, _ = journey_service
    assert service.api("GET", "/conversations", None).status_code == 401
    assert service.api("GET", "/conversations", "garbage").json()["error"] == "unauthorized"
    assert service.api("GET", "/openapi.json", None).json()["openapi"].startswith("3.")
    assert service.api("GET", "/conversations/unknown", ANA).status_code == 404
    assert service.api("POST", "/conversations/unknown/claim", ANA).status_code == 404
    assert service.api("GET", "/conversations?status=nope", ANA).status_code == 400
    malformed = service.api("POST", "/devices", ANA, data=b"{not json", headers={"Content-Type": "application/json"})
    assert (malformed.status_code, malformed.json()["error"]) == (400, "malformed_json")
    assert service.api("POST", "/devices", ANA, json={"token": "t", "platform": "windows"}).status_code == 400
    assert service.api("POST", "/appointments/999/confirm", ANA).status_code == 404


def test_customer_is_answered_when_the_database_gives_them_back_without_any_tracker_write(journey_service):
    """The database alone decides who answers: no resume is ever written to the tracker on release.

    Here the conversation goes back to the bot by a bare database update (what a release or a
    give-up does), so nothing but the next turn can bring Rasa's paused tracker back.
    """
    service, graph, _ = journey_service
    customer = "16315551182"
    assert service.post_webhook(text_delivery(customer, "wamid.R1", "i want to talk to a person")).status_code == 200
    wait_for_text(graph, "asked a person from our team")
    assert service.api("POST", f"/conversations/{customer}/claim", ANA).status_code == 200
    assert service.post_webhook(text_delivery(customer, "wamid.R2", "are you there")).status_code == 200
    assert wait_for_turn(service, "wamid.R2") == []  # that turn paused the tracker: a person held the customer

    database = Database(service.env["DATABASE_URL"])
    try:
        database.execute("UPDATE conversations SET status = 'bot', assigned_to = NULL WHERE id = ?", (customer,))
    finally:
        database.close()
    greetings = len([t for t in texts_sent(graph) if "I'm the virtual assistant" in t])
    assert service.post_webhook(text_delivery(customer, "wamid.R3", "hi")).status_code == 200
    deadline = time.time() + 30
    while len([t for t in texts_sent(graph) if "I'm the virtual assistant" in t]) == greetings and time.time() < deadline:
        time.sleep(0.1)
    assert len([t for t in texts_sent(graph) if "I'm the virtual assistant" in t]) == greetings + 1
