"""Two Rasa replicas on different ports sharing PostgreSQL and Redis behave as one service."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.integration.service import RunningService, attendant_token, service_env, text_delivery, wait_settled
from tests.integration.test_handoff_journey import StreamReader

ANA, BRUNO = attendant_token("ana"), attendant_token("bruno")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, module_postgres_url, redis_url):
    tmp_path, postgres_url = tmp_path_factory.mktemp("replicas"), module_postgres_url
    with FakeGraphApi() as graph:
        env = service_env(postgres_url, graph.url, WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN, REDIS_URL=redis_url)
        first = RunningService(tmp_path / "a", env).start()
        second = RunningService(tmp_path / "b", env, action_port=first.action_port, start_actions=False)
        try:
            second.start()
            yield first, second, graph
        finally:
            second.stop()
            first.stop()


def replies_to(graph: FakeGraphApi, customer: str) -> list:
    return [body["text"]["body"] for body in graph.sent_messages() if body["to"] == customer and body.get("type") == "text"]


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_same_wamid_on_both_replicas_gets_one_reply(replicas):
    first, second, graph = replicas
    body = text_delivery("5511900000001", "wamid.replica.same", "hello")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda replica: replica.post_webhook(body), [first, second]))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert sorted(answer.json()["new"] for answer in answers) == [0, 1]
    wait_until(lambda: len(replies_to(graph, "5511900000001")) == 1)
    wait_settled(first.env["DATABASE_URL"])  # both replicas are done: a second reply could not come later
    assert len(replies_to(graph, "5511900000001")) == 1


def test_one_conversation_spread_over_both_replicas_is_answered_in_order(replicas):
    first, second, graph = replicas
    customer = "5511900000002"
    now = int(time.time())
    turns = [("hello", "virtual assistant"), ("thanks a lot", "welcome"), ("bye", "Bye")]
    for index, (text, _) in enumerate(turns):
        replica = first if index % 2 == 0 else second
        assert replica.post_webhook(text_delivery(customer, f"wamid.order.{index}", text, timestamp=now + index)).status_code == 200
    wait_until(lambda: len(replies_to(graph, customer)) == len(turns))
    replies = replies_to(graph, customer)
    assert all(expected in reply for reply, (_, expected) in zip(replies, turns)), replies


def test_claim_race_across_replicas_and_stream_sees_the_other_replica(replicas):
    first, second, graph = replicas
    customer = "5511900000003"
    assert second.post_webhook(text_delivery(customer, "wamid.race.1", "i want to talk to a person")).status_code == 200
    wait_until(lambda: any(c["id"] == customer for c in first.api("GET", "/conversations?status=waiting", ANA).json()["conversations"]))
    stream = StreamReader(f"{first.url}/webhooks/attendant/stream", BRUNO)
    try:
        with ThreadPoolExecutor(2) as pool:
            claims = list(pool.map(lambda pair: pair[0].api("POST", f"/conversations/{customer}/claim", pair[1]),
                                   [(first, ANA), (second, BRUNO)]))
        assert sorted(claim.status_code for claim in claims) == [200, 409]
        assert second.post_webhook(text_delivery(customer, "wamid.race.2", "are you there?")).status_code == 200
        seen = stream.wait_for(lambda e: e["event"] == "message.created" and e["data"]["id"] == "wamid.race.2")
        assert seen["data"]["conversation_id"] == customer
    finally:
        stream.close()
