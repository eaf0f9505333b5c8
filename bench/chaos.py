"""Fault injection: 500 messages from 50 customers through two replicas, one killed, PostgreSQL restarted.

    eval "$(scripts/start-test-services.sh)"
    .venv/bin/python bench/chaos.py [--customers 50] [--messages-each 10] [--workers 1]

Each replica is a web process and `--workers` dialogue worker processes, as `make run` starts them.
Webhooks are posted the way Meta does: any answer other than 200 is retried later. In the
middle of the run replica B (its web process and its workers) is killed with SIGKILL and started again; later PostgreSQL is
restarted (`pg_ctlcluster ... restart`, needs root or sudo). Prints a table: messages lost
(never answered), duplicate replies (a turn answered by two outbox records), repeated Graph
calls (a call cut by the kill and retried), webhook answers other than 200/503, recovery time.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

import requests

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi  # noqa: E402
from tests.integration.service import (  # noqa: E402
    RunningService,
    service_env,
    temporary_postgres_database,
    text_delivery,
)

GREETING = "I'm the virtual assistant"


def restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    command = ["pg_ctlcluster", version, "main", "restart", "-o", "-c listen_addresses=127.0.0.1"]
    if os.geteuid() != 0:
        command = ["sudo", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Meta:
    """Posts webhooks like Meta: retries anything but 200, records every answer."""

    def __init__(self, replicas: List[RunningService]) -> None:
        self.replicas = replicas
        self.answers: collections.Counter = collections.Counter()
        self.lock = threading.Lock()

    def deliver(self, index: int, body: bytes) -> None:
        attempt = 0
        while True:
            replica = self.replicas[(index + attempt) % len(self.replicas)]
            try:
                status = replica.post_webhook(body).status_code
            except requests.RequestException:
                status = "refused"
            with self.lock:
                self.answers[status] += 1
            if status == 200:
                return
            attempt += 1
            time.sleep(min(0.2 * attempt, 2.0))


def count_replies(graph: FakeGraphApi) -> Dict[str, int]:
    records = {b["biz_opaque_callback_data"]: b["to"] for b in graph.sent_messages() if GREETING in b.get("text", {}).get("body", "")}
    return collections.Counter(records.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--messages-each", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1,
                        help="dialogue worker processes per replica beside its web process (0: one `rasa run` each)")
    args = parser.parse_args()
    database_url, redis_url = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not database_url or not redis_url or not glob.glob("/etc/postgresql/*"):
        print('chaos: skipped, needs local PostgreSQL and Redis: eval "$(scripts/start-test-services.sh)"')
        return 2 if os.environ.get("CI") == "true" else 0
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    total = args.customers * args.messages_each
    customers = [f"4915{index:07d}" for index in range(args.customers)]
    with temporary_postgres_database(database_url) as fresh_database, FakeGraphApi() as graph:
        env = service_env(fresh_database, graph.url, WHATSAPP_ACCESS_TOKEN=FAKE_ACCESS_TOKEN, REDIS_URL=redis_url,
                          GRAPH_TIMEOUT_SECONDS="3")
        replica_a = RunningService(workdir / "a", env, workers=args.workers).start()
        replica_b = RunningService(workdir / "b", env, action_port=replica_a.action_port, start_actions=False,
                                   workers=args.workers).start()
        meta = Meta([replica_a, replica_b])
        started = time.time()
        recovery: Dict[str, float] = {}
        try:
            with ThreadPoolExecutor(16) as pool:
                futures = []
                for round_number in range(args.messages_each):
                    for index, customer in enumerate(customers):
                        body = text_delivery(customer, f"wamid.chaos.{customer}.{round_number}", "hello",
                                             timestamp=int(started) + round_number)
                        futures.append(pool.submit(meta.deliver, index, body))
                    if round_number == args.messages_each // 3:
                        time.sleep(1.0)
                        for _, process, _ in replica_b.processes:  # its web process and its dialogue workers
                            process.kill()
                        killed_at = time.time()
                        replica_b.stop(kill=True)
                        replica_b.start()
                        recovery["replica restart (s)"] = time.time() - killed_at
                    if round_number == 2 * args.messages_each // 3:
                        time.sleep(1.0)
                        before = time.time()
                        restart_postgres()
                        recovery["postgres restart (s)"] = time.time() - before
                for future in futures:
                    future.result()
            deadline = time.time() + 180
            while sum(count_replies(graph).values()) < total and time.time() < deadline:
                time.sleep(0.5)
            finished = time.time()
            time.sleep(5)
        finally:
            replica_b.stop()
            replica_a.stop()
        replies = count_replies(graph)
        http_sends = sum(1 for b in graph.sent_messages() if GREETING in b.get("text", {}).get("body", ""))
    answered = sum(min(count, args.messages_each) for count in replies.values())
    duplicates = sum(max(count - args.messages_each, 0) for count in replies.values())
    odd_answers = sum(n for status, n in meta.answers.items() if status not in (200, 503, "refused"))
    rows = [
        ("messages sent (distinct wamids)", total),
        ("messages answered", answered),
        ("messages lost", total - answered),
        ("duplicate replies (same turn answered twice)", duplicates),
        ("repeated Graph calls (cut by the kill)", http_sends - answered - duplicates),
        ("webhook answers 200", meta.answers[200]),
        ("webhook answers 503 (retried)", meta.answers[503]),
        ("webhook answers other than 200/503", odd_answers),
        ("connection refused (replica down, retried)", meta.answers["refused"]),
        *[(name, f"{value:.1f}") for name, value in recovery.items()],
        ("all answered after (s)", f"{finished - started:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print("-" * (width + 10))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"logs: {workdir}")
    return 0 if total == answered and duplicates == 0 and odd_answers == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
