"""The split service: a web process without the model, and two dialogue worker processes (SQLite, as `make run`)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import requests

from supportdesk.platform.settings import cores
from supportdesk.processes.dialogue_worker import WORKER_NICENESS
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.integration.service import RunningService, attendant_token, service_env, text_delivery, wait_settled

ANA = attendant_token("ana")


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("split")
    with FakeGraphApi() as graph:
        env = service_env(f"sqlite:///{tmp_path / 'split.db'}", graph.url, WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN)
        service = RunningService(tmp_path / "service", env, workers=2).start()
        try:
            yield service, graph
        finally:
            service.stop()


def replies_to(graph: FakeGraphApi, customer: str) -> list:
    return [body["text"]["body"] for body in graph.sent_messages() if body["to"] == customer and body.get("type") == "text"]


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def pid_of(service: RunningService, name: str) -> int:
    return next(process.pid for process_name, process, _ in service.processes if process_name == name)


def maps_tensorflow(pid: int) -> bool:
    return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()


def test_the_web_process_loads_no_model_and_the_workers_do(split):
    service, _ = split
    assert maps_tensorflow(pid_of(service, "web")) is False
    assert maps_tensorflow(pid_of(service, "worker1")) is True
    assert maps_tensorflow(pid_of(service, "worker2")) is True
    ready = requests.get(f"{service.url}/webhooks/health/ready", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"model": True, "database": True, "accepting": True}


def test_the_workers_yield_the_cpu_to_the_web_process(split):
    """Acknowledging webhooks comes first on shared cores: the workers run at a lower priority."""
    service, _ = split
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid_of(service, "web")) == ours
    for worker in ("worker1", "worker2"):
        assert os.getpriority(os.PRIO_PROCESS, pid_of(service, worker)) == min(19, ours + WORKER_NICENESS)


def test_each_worker_sizes_tensorflow_to_its_share_of_the_cores_and_runs_on_uvloop(split):
    service, _ = split
    share = max(1, cores() // 2)  # two workers on this machine's cores
    for worker in ("worker1", "worker2"):
        log = (service.workdir / f"{worker}-{service.port}.log").read_text(errors="replace")
        started = [json.loads(line) for line in log.splitlines() if '"dialogue.worker.started"' in line]
        assert [(entry["tensorflow_threads"], entry["event_loop"]) for entry in started] == [(share, "uvloop")]


def test_every_customer_gets_one_answer_and_both_workers_take_turns(split):
    service, graph = split
    customers = [f"55119100000{index:02d}" for index in range(12)]
    for index, customer in enumerate(customers):
        assert service.post_webhook(text_delivery(customer, f"wamid.split.{index}", "hello")).status_code == 200
    wait_until(lambda: all(replies_to(graph, customer) for customer in customers))
    wait_settled(service.env["DATABASE_URL"])
    assert all(len(replies_to(graph, customer)) == 1 for customer in customers)
    assert all("virtual assistant" in replies_to(graph, customer)[0] for customer in customers)
    turns = {
        name: (service.workdir / f"{name}-{service.port}.log").read_text().count('"whatsapp.turn.completed"')
        for name in ("worker1", "worker2")
    }
    assert sum(turns.values()) >= len(customers) and all(turns.values()), turns


def test_a_conversation_is_answered_in_order_and_history_reads_the_tracker_without_the_model(split):
    service, graph = split
    customer = "5511910000099"
    now = int(time.time())
    turns = [("hello", "virtual assistant"), ("thanks a lot", "welcome"), ("bye", "Bye")]
    for index, (text, _) in enumerate(turns):
        body = text_delivery(customer, f"wamid.split.order.{index}", text, timestamp=now + index)
        assert service.post_webhook(body).status_code == 200
    wait_until(lambda: len(replies_to(graph, customer)) == len(turns))
    replies = replies_to(graph, customer)
    assert all(expected in reply for reply, (_, expected) in zip(replies, turns)), replies
    history = service.api("GET", f"/conversations/{customer}/messages", ANA)
    assert history.status_code == 200
    texts = [message["text"] for message in history.json()["messages"] if message["sender"] == "customer"]
    assert texts == ["hello", "thanks a lot", "bye"]


def test_an_attendant_message_is_sent_by_the_web_process(split):
    service, graph = split
    customer = "5511910000077"
    assert service.post_webhook(text_delivery(customer, "wamid.split.handoff", "i want to talk to a person")).status_code == 200
    wait_until(lambda: any(c["id"] == customer for c in
                           service.api("GET", "/conversations?status=waiting", ANA).json()["conversations"]))
    assert service.api("POST", f"/conversations/{customer}/claim", ANA).status_code == 200
    sent = service.api("POST", f"/conversations/{customer}/messages", ANA, json={"text": "Ana here"})
    assert sent.status_code == 202
    wait_until(lambda: "Ana here" in replies_to(graph, customer), timeout=10)
