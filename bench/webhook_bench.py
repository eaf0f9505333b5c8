"""Webhook benchmark: our WhatsApp channel against stock Rasa's REST channel, same model, same run.

    .venv/bin/python bench/webhook_bench.py [--messages 200] [--concurrency 1,20,50] [--replicas 1] [--workers N]
                                            [--conversations 50 --turns 4]

For each concurrency it sends `--messages` signed webhooks (one per new customer, saying
"hello", answered by a rule) as fast as `concurrency` requests in flight allow, and measures the
webhook's acknowledgement latency and the end-to-end time until the reply reaches a local fake
Graph API. Then `--conversations` customers each write `--turns` messages, each one after the
answer to the previous (as people on WhatsApp do, and as stock REST's clients must): the
acknowledgements while every dialogue worker is busy. Then the same client against an endpoint
that answers 200 and does nothing (`bench/empty_endpoint.py`): the latency of the load generator,
loopback HTTP and Sanic alone. Last, the same messages through stock Rasa's REST channel (`rest:`
credentials), whose answer is the reply. Prints a table; a benchmark, never a test. With `--replicas 2` (needs TEST_POSTGRES_URL and
TEST_REDIS_URL, e.g. from scripts/start-test-services.sh) webhooks alternate between two
replicas sharing PostgreSQL and Redis. `--workers N` runs ours as `make run` does: the web process
(no model) and N dialogue worker processes (default: DIALOGUE_WORKERS, one per core); `--workers 0`
is the single `rasa run` process with the dialogue inside. Prints each process's memory (RSS now and
its peak) and CPU seconds used during the measurements.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import AsyncIterator, Dict, Iterator, List, Optional, Tuple

from aiohttp import web

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bench.load_client import KeepAliveClient  # noqa: E402
from supportdesk.platform.settings import get_settings  # noqa: E402
from supportdesk.whatsapp.signature import sign  # noqa: E402
from tests.fixture_files import APP_SECRET  # noqa: E402
from tests.integration.service import (  # noqa: E402
    RunningService,
    free_port,
    service_env,
    temporary_postgres_database,
    text_delivery,
)

BENCH_TOKEN = "EAAGbenchtoken0123456789"


class ReplyClock:
    """A minimal Graph API (`/{version}/{phone_number_id}/messages`) noting when each customer's first reply arrives."""

    def __init__(self) -> None:
        self.first_reply: Dict[str, float] = {}
        self.replies: Dict[str, List[float]] = {}
        self._waiters: Dict[str, List[Tuple[int, asyncio.AbstractEventLoop, asyncio.Future]]] = {}
        self._lock = threading.Lock()
        self.port = free_port()
        self._ids = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v24.0"

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("status") == "read":
            return web.json_response({"success": True})
        arrived = time.perf_counter()
        self.first_reply.setdefault(body["to"], arrived)
        with self._lock:
            self.replies.setdefault(body["to"], []).append(arrived)
            count = len(self.replies[body["to"]])
            waiting = self._waiters.get(body["to"], [])
            due = [waiter for waiter in waiting if waiter[0] <= count]
            self._waiters[body["to"]] = [waiter for waiter in waiting if waiter[0] > count]
        for _, loop, future in due:
            loop.call_soon_threadsafe(_resolve, future)
        self._ids += 1
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
             "messages": [{"id": f"wamid.BENCH{self._ids}"}]}
        )

    async def reply_number(self, customer: str, count: int) -> float:
        """Wait (on the caller's loop) until `customer` got `count` replies; when the last of them arrived."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if len(self.replies.get(customer, [])) < count:
                self._waiters.setdefault(customer, []).append((count, loop, future))
            else:
                future.set_result(None)
        await future
        return self.replies[customer][count - 1]

    def start(self) -> ReplyClock:
        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/{version}/{phone}/messages", self._messages)
            runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(runner.setup())
            self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            self._ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        self._ready.wait(10)
        return self


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def _run_bounded(concurrency: int, jobs: List, worker) -> List:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(job):
        async with semaphore:
            return await worker(job)

    return await asyncio.gather(*(one(job) for job in jobs))


WEBHOOK = "/webhooks/whatsapp/webhook"
Signed = Tuple[bytes, Dict[str, str]]


def signed_hello(customer: str, wamid: str) -> Signed:
    """A customer's "hello" webhook and its headers, built before the clock starts."""
    body = text_delivery(customer, wamid, "hello")
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}


@contextlib.asynccontextmanager
async def webhook_clients(urls: List[str], size: int) -> AsyncIterator[List[KeepAliveClient]]:
    """A client per replica with `size` connections, opened before measuring by an unsigned POST (401, nothing stored)."""
    clients = [KeepAliveClient(url, size) for url in urls]
    try:
        for client in clients:
            await client.warm_up(WEBHOOK, b"{}", {"Content-Type": "application/json"})
        yield clients
    finally:
        for client in clients:
            await client.close()


def ack_stats(acks: List[float], replied: List[float], throughput: float, lost: int, non_200: int) -> Dict[str, float]:
    """One table row: acknowledgement and end-to-end percentiles (ms), replies per second, losses."""
    nan = float("nan")
    return {
        "ack_p50": percentile(acks, 0.50), "ack_p95": percentile(acks, 0.95), "ack_p99": percentile(acks, 0.99),
        "e2e_p50": percentile(replied, 0.5) * 1000 if replied else nan,
        "e2e_p95": percentile(replied, 0.95) * 1000 if replied else nan,
        "throughput": throughput, "lost": lost, "non_200": non_200,
    }


async def bench_whatsapp(urls: List[str], clock: ReplyClock, messages: int, concurrency: int) -> Dict[str, float]:
    """`messages` new customers saying hello, `concurrency` webhooks in flight."""
    run_id = uuid.uuid4().hex[:6]
    prefix = int(run_id, 16) % 10_000
    customers = [f"99{prefix:04d}{index:06d}" for index in range(messages)]
    requests = [signed_hello(customer, f"wamid.bench.{run_id}.{index}") for index, customer in enumerate(customers)]
    posted: Dict[str, float] = {}
    acks: List[float] = []
    non_200 = 0
    async with webhook_clients(urls, concurrency) as clients:

        async def post(index: int) -> None:
            nonlocal non_200
            posted[customers[index]] = time.perf_counter()
            response = await clients[index % len(clients)].post(WEBHOOK, *requests[index])
            acks.append(response.seconds * 1000)
            non_200 += response.status != 200

        first = time.perf_counter()
        await _run_bounded(concurrency, list(range(messages)), post)
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline and not all(c in clock.first_reply for c in customers):
            await asyncio.sleep(0.05)
    replied = [clock.first_reply[c] - posted[c] for c in customers if c in clock.first_reply]
    last = max(clock.first_reply.get(c, first) for c in customers)
    return ack_stats(acks, replied, len(replied) / (last - first) if replied else 0.0, messages - len(replied), non_200)


async def bench_conversations(urls: List[str], clock: ReplyClock, customers: int, turns: int) -> Dict[str, float]:
    """`customers` people each writing `turns` messages, each after the answer to the previous one.

    They start within one second (customer i at i/customers s), as people do, not in one instant.
    """
    run_id = uuid.uuid4().hex[:6]
    prefix = int(run_id, 16) % 10_000
    acks: List[float] = []
    replied: List[float] = []
    non_200 = 0
    async with webhook_clients(urls, customers) as clients:

        async def converse(index: int) -> None:
            nonlocal non_200
            customer = f"98{prefix:04d}{index:06d}"
            messages = [signed_hello(customer, f"wamid.conv.{run_id}.{index}.{turn}") for turn in range(turns)]
            await asyncio.sleep(index / customers)
            for turn, request in enumerate(messages):
                response = await clients[index % len(clients)].post(WEBHOOK, *request)
                sent = time.perf_counter() - response.seconds
                acks.append(response.seconds * 1000)
                non_200 += response.status != 200
                try:
                    answered = await asyncio.wait_for(clock.reply_number(customer, turn + 1), timeout=300)
                except asyncio.TimeoutError:
                    return  # counted as lost
                replied.append(answered - sent)

        first = time.perf_counter()
        await asyncio.gather(*(converse(index) for index in range(customers)))
        total = time.perf_counter() - first
    return ack_stats(acks, replied, len(replied) / total, customers * turns - len(replied), non_200)


async def bench_floor(url: str, messages: int, concurrency: int) -> Dict[str, float]:
    """The same signed requests against `bench/empty_endpoint.py`: the acknowledgement nothing can remove."""
    requests = [signed_hello(f"97{index:010d}", f"wamid.floor.{index}") for index in range(messages)]
    acks: List[float] = []
    async with webhook_clients([url], concurrency) as (client,):

        async def post(index: int) -> None:
            acks.append((await client.post(WEBHOOK, *requests[index])).seconds * 1000)

        await _run_bounded(concurrency, list(range(messages)), post)
    return ack_stats(acks, [], float("nan"), 0, 0)


@contextlib.contextmanager
def empty_endpoint() -> Iterator[str]:
    """`bench/empty_endpoint.py` in a process of its own (like ours), until the block ends."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(PROJECT / "bench" / "empty_endpoint.py"), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def bench_rest(url: str, messages: int, concurrency: int) -> Dict[str, float]:
    """Stock Rasa's REST channel: the answer comes in the response, so its latency is the end-to-end time."""
    run_id = uuid.uuid4().hex[:8]
    bodies = [json.dumps({"sender": f"rest-{run_id}-{index}", "message": "hello"}).encode() for index in range(messages)]
    latencies: List[float] = []
    answered = 0
    client = KeepAliveClient(url, concurrency)

    async def post(index: int) -> None:
        nonlocal answered
        response = await client.post("/webhooks/rest/webhook", bodies[index], {"Content-Type": "application/json"})
        latencies.append(response.seconds * 1000)
        answered += 1 if response.status == 200 and json.loads(response.body) else 0

    first = time.perf_counter()
    try:
        await _run_bounded(concurrency, list(range(messages)), post)
    finally:
        await client.close()
    total = time.perf_counter() - first
    return ack_stats(latencies, [latency / 1000 for latency in latencies], answered / total, messages - answered, 0)


def turn_profile(workdirs: List[Path]) -> str:
    """Where a replica's time goes: mean Rasa turn time (NLU, policies, actions) from its logs."""
    turns = []
    for workdir in workdirs:
        for log in [*workdir.glob("rasa-*.log"), *workdir.glob("worker*-*.log")]:
            for line in log.read_text(errors="replace").splitlines():
                if '"whatsapp.turn.completed"' in line:
                    turns.append(json.loads(line)["rasa_ms"])
    if not turns:
        return "no turn timings found in the logs"
    return (
        f"Rasa turn (NLU + policies + action calls) over {len(turns)} turns: mean {sum(turns) / len(turns):.1f} ms, "
        f"p95 {percentile(turns, 0.95):.1f} ms; the rest of a message's cost is storing, queueing and sending"
    )


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (`VmRSS`) or at its peak (`VmHWM`), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def database_server_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL server process on this machine (0 without one)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            if text.split("(", 1)[1].startswith("postgres)"):
                total += cpu_seconds(int(stat.parent.name))
    return total


def cpu_line(name: str, processes_cpu: float, database_cpu: float, messages: int, bench_cpu: float) -> str:
    """CPU per message of one side of the comparison, its processes and the database server's share."""
    return (f"  {name}: {processes_cpu:.1f} s CPU in its processes + {database_cpu:.1f} s in PostgreSQL for {messages}"
            f" messages = {(processes_cpu + database_cpu) / messages * 1000:.1f} ms per message"
            f" (and the bench's own process, on the same cores: {bench_cpu / messages * 1000:.1f} ms)")


def process_report(replicas: List[RunningService], cpu_before: Dict[int, float]) -> List[str]:
    """One line per process of ours: RSS after the run, peak RSS, CPU seconds during the measurements."""
    lines = []
    for replica in replicas:
        for name, process, _ in replica.processes:
            used = cpu_seconds(process.pid) - cpu_before.get(process.pid, 0.0)
            lines.append(
                f"  {name:<9} pid {process.pid:<7} RSS {memory_mb(process.pid):6.0f} MB  peak {memory_mb(process.pid, 'VmHWM'):6.0f} MB"
                f"  CPU {used:6.1f} s"
            )
    return lines


def print_table(rows: List[Tuple[str, int, Dict[str, float]]]) -> None:
    header = f"{'channel':<24}{'conc':>5}{'ack p50':>9}{'ack p95':>9}{'ack p99':>9}{'e2e p50':>9}{'e2e p95':>9}{'msg/s':>8}{'lost':>6}{'non200':>7}"
    print(header)
    print("-" * len(header))
    for name, concurrency, result in rows:
        print(
            f"{name:<24}{concurrency:>5}{result['ack_p50']:>9.1f}{result['ack_p95']:>9.1f}{result['ack_p99']:>9.1f}"
            f"{result['e2e_p50']:>9.0f}{result['e2e_p95']:>9.0f}{result['throughput']:>8.1f}{int(result['lost']):>6}{int(result['non_200']):>7}"
        )
    stock = {concurrency: result["throughput"] for name, concurrency, result in rows if name.startswith("rest")}
    for name, concurrency, result in rows:
        if name.startswith("whatsapp") and stock.get(concurrency):
            print(f"{name} at {concurrency}: {result['throughput'] / stock[concurrency]:.2f}x stock REST's msg/s")
    print("latencies in ms; REST's ack = its answer (it replies in the response); e2e = POST to reply at the fake Graph API;")
    print("conc of `conversations` = customers, each writing after the answer to the previous message; `floor` = the")
    print("same client against an endpoint that answers 200 and does nothing (bench/empty_endpoint.py)")


def run(stack: contextlib.ExitStack) -> int:
    """Run every measurement; temporary databases are dropped when `stack` closes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--concurrency", default="1,20,50")
    parser.add_argument("--replicas", type=int, default=1, choices=(1, 2))
    parser.add_argument("--workers", type=int, default=get_settings().dialogue_workers,
                        help="dialogue worker processes per replica (0: the dialogue inside `rasa run`)")
    parser.add_argument("--skip-rest", action="store_true")
    parser.add_argument("--conversations", type=int, default=50,
                        help="customers writing at once, each after the previous answer (0: skip)")
    parser.add_argument("--turns", type=int, default=4, help="messages each of those customers writes")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: ours and stock REST each on a fresh database under TEST_POSTGRES_URL")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    clock = ReplyClock().start()
    postgres_url = os.environ.get("TEST_POSTGRES_URL")
    if (args.replicas == 2 or args.database == "postgres") and not postgres_url:
        print('--replicas 2 and --database postgres need TEST_POSTGRES_URL: eval "$(scripts/start-test-services.sh)"')
        return 2
    if args.replicas == 2:
        redis_url = os.environ.get("TEST_REDIS_URL")
        if not redis_url:
            print('--replicas 2 needs TEST_REDIS_URL: eval "$(scripts/start-test-services.sh)"')
            return 2
        extra = {"REDIS_URL": redis_url}
        database_url = stack.enter_context(temporary_postgres_database(postgres_url))
    elif args.database == "postgres":
        database_url, extra = stack.enter_context(temporary_postgres_database(postgres_url)), {}
    else:
        database_url, extra = f"sqlite:///{workdir / 'bench.db'}", {}
    env = service_env(database_url, clock.url, WHATSAPP_ACCESS_TOKEN=BENCH_TOKEN, **extra)
    replicas = [RunningService(workdir / "ours-1", env, workers=args.workers).start()]
    if args.replicas == 2:
        replicas.append(RunningService(workdir / "ours-2", env, action_port=replicas[0].action_port, start_actions=False,
                                       workers=args.workers).start())
    rows = []
    label = f"whatsapp x{args.replicas} w{args.workers}"
    try:
        asyncio.run(bench_whatsapp([r.url for r in replicas], clock, 10, 5))  # warm-up: models, connections
        cpu_before = {process.pid: cpu_seconds(process.pid) for replica in replicas for _, process, _ in replica.processes}
        database_before, bench_before = database_server_cpu(), time.process_time()
        for level in levels:
            rows.append((label, level, asyncio.run(
                bench_whatsapp([r.url for r in replicas], clock, args.messages, level))))
        if args.conversations:
            rows.append((f"{label} conversations", args.conversations, asyncio.run(
                bench_conversations([r.url for r in replicas], clock, args.conversations, args.turns))))
        processes = process_report(replicas, cpu_before)
        ours_cpu = sum(cpu_seconds(pid) - before for pid, before in cpu_before.items())
        cpu_lines = [cpu_line("ours", ours_cpu, database_server_cpu() - database_before,
                              args.messages * len(levels) + args.conversations * args.turns,
                              time.process_time() - bench_before)]
        profile = turn_profile([replica.workdir for replica in replicas])
    finally:
        for replica in replicas:
            replica.stop()
    with empty_endpoint() as url:
        asyncio.run(bench_floor(url, 10, 5))
        for level in levels:
            rows.append(("floor (empty endpoint)", level, asyncio.run(bench_floor(url, args.messages, level))))
    if not args.skip_rest:
        rest_database = (stack.enter_context(temporary_postgres_database(postgres_url)) if args.database == "postgres"
                         else f"sqlite:///{workdir / 'rest.db'}")
        rest = RunningService(workdir / "rest", service_env(rest_database, "http://127.0.0.1:9"),
                              credentials="rest:\n").start()
        try:
            asyncio.run(bench_rest(rest.url, 10, 5))
            rest_before = {process.pid: cpu_seconds(process.pid) for _, process, _ in rest.processes}
            database_before, bench_before = database_server_cpu(), time.process_time()
            for level in levels:
                rows.append(("rest (stock Rasa)", level, asyncio.run(bench_rest(rest.url, args.messages, level))))
            cpu_lines.append(cpu_line("stock REST", sum(cpu_seconds(pid) - before for pid, before in rest_before.items()),
                                      database_server_cpu() - database_before, args.messages * len(levels),
                                      time.process_time() - bench_before))
        finally:
            rest.stop()
    print_table(rows)
    print(f"our processes ({'rasa run' if args.workers == 0 else f'web + {args.workers} dialogue workers'}, "
          f"and the action server), after the run:")
    print("\n".join(processes))
    print("CPU used during the measurements:")
    print("\n".join(cpu_lines))
    print(profile)
    return 0


def main() -> int:
    """Entry point."""
    with contextlib.ExitStack() as stack:
        return run(stack)


if __name__ == "__main__":
    sys.exit(main())
