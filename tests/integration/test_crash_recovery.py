"""Kill -9 the Rasa process mid-batch, start it again: every message answered exactly once.

Each of 12 customers says hello three times (each "hello" gets one greeting), all
acknowledged before the kill; the kill lands while turns and sends are in flight.
Replies are counted by outbox record (`biz_opaque_callback_data`): a turn is never answered
twice. A Graph call cut by the kill itself may be repeated (the Graph API has no idempotency
key): a record may reach the fake twice only if its first copy arrived before the kill.
"""

from __future__ import annotations

import collections
import time

from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.integration.service import RunningService, service_env, text_delivery, wait_settled

CUSTOMERS = [f"4477009{index:05d}" for index in range(12)]
MESSAGES_EACH = 3
GREETING = "I'm the virtual assistant"


def greetings_per_customer(graph: FakeGraphApi) -> collections.Counter:
    """Distinct outbox records with a greeting, per customer."""
    records = {
        body["biz_opaque_callback_data"]: body["to"]
        for body in graph.sent_messages()
        if GREETING in body.get("text", {}).get("body", "")
    }
    return collections.Counter(records.values())


def copies_per_record(graph: FakeGraphApi) -> dict:
    """Arrival times (monotonic) of every greeting send, per outbox record."""
    copies: dict = collections.defaultdict(list)
    for request in graph.requests:
        if request.method == "POST" and request.path.endswith("/messages"):
            body = request.json()
            if GREETING in body.get("text", {}).get("body", ""):
                copies[body["biz_opaque_callback_data"]].append(request.received_at)
    return copies


def test_nothing_lost_or_sent_twice_after_kill_9(tmp_path):
    expected = len(CUSTOMERS) * MESSAGES_EACH
    with FakeGraphApi() as graph:
        graph.script_delay(0.3, times=expected)  # slow sends keep replies in flight when the kill lands
        database_url = f"sqlite:///{tmp_path / 'crash.db'}"
        env = service_env(database_url, graph.url, WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN,
                          GRAPH_TIMEOUT_SECONDS="2")
        first = RunningService(tmp_path / "first", env).start()
        try:
            for round_number in range(MESSAGES_EACH):
                for customer in CUSTOMERS:
                    response = first.post_webhook(text_delivery(customer, f"wamid.crash.{customer}.{round_number}", "hello"))
                    assert response.status_code == 200
            deadline = time.time() + 60
            while sum(greetings_per_customer(graph).values()) < 4 and time.time() < deadline:
                time.sleep(0.05)
            answered_before_kill = sum(greetings_per_customer(graph).values())
            assert 0 < answered_before_kill < expected, "the kill must land mid-batch"
            rasa = next(process for name, process, _ in first.processes if name == "rasa")
            killed_at = time.monotonic()
            rasa.kill()
            rasa.wait()
            second = RunningService(tmp_path / "second", env, action_port=first.action_port, start_actions=False).start()
            try:
                deadline = time.time() + 90
                while sum(greetings_per_customer(graph).values()) < expected and time.time() < deadline:
                    time.sleep(0.2)
                wait_settled(database_url)  # every row sent or failed: no further send can happen
            finally:
                second.stop()
        finally:
            first.stop()
    counts = greetings_per_customer(graph)
    assert counts == {customer: MESSAGES_EACH for customer in CUSTOMERS}, counts
    repeated = {record: times for record, times in copies_per_record(graph).items() if len(times) > 1}
    for record, times in repeated.items():
        assert len(times) == 2, f"{record} reached the Graph API {len(times)} times; one kill allows one repeat"
        assert times[0] < killed_at, f"{record} was repeated although its first copy came after the kill"
