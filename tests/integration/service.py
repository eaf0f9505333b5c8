"""Runs the real service for integration tests: `rasa run` and the action server as processes.

Settings point every outside peer at local fakes (Graph API, OpenAI, FCM), so the real
client libraries speak the real wire protocol. Logs go to files under the test's tmp dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import requests

from supportdesk.attendant.tokens import mint_token
from supportdesk.whatsapp.signature import sign
from tests.fixture_files import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, fixture_bytes

PROJECT = Path(__file__).resolve().parents[2]
MODEL = PROJECT / "models" / "current.tar.gz"
RASA = PROJECT / ".venv" / "bin" / "rasa"
JWT_SECRET = "integration-attendant-secret-0123456789"
ACTION_SERVER_TOKEN = "integration-action-server-token-0123456789"  # what Rasa sends its action server
START_TIMEOUT_SECONDS = 180


@contextlib.contextmanager
def temporary_postgres_database(base_url: str) -> Iterator[str]:
    """Create an empty database on the server of `base_url`, yield its URL, drop it afterwards."""
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:12]}"

    def run(statement: str) -> None:
        # A fresh connection each time: the server may have been restarted in between (bench/chaos.py).
        admin = psycopg2.connect(base_url)
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute(statement)
        finally:
            admin.close()

    run(f'CREATE DATABASE "{name}"')
    head, _, _ = base_url.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def text_delivery(customer: str, wamid: str, text: str, name: str = "Kerry Fisher", timestamp: Optional[int] = None) -> bytes:
    """A Cloud API text webhook (the fixture's shape) for one customer message."""
    body = json.loads(fixture_bytes("inbound_text.json"))
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update({"wa_id": customer, "profile": {"name": name}})
    message = value["messages"][0]
    message.update({"from": customer, "id": wamid, "timestamp": str(timestamp or int(time.time())), "text": {"body": text}})
    return json.dumps(body).encode("utf-8")


# Every service started in this process, so a failing test can show their logs (tests/conftest.py).
STARTED: list = []


class RunningService:
    """One replica of Rasa (with both channels) plus, optionally, its action server."""

    def __init__(
        self,
        workdir: Path,
        env: Dict[str, str],
        action_port: Optional[int] = None,
        start_actions: bool = True,
        credentials: Optional[str] = None,
        workers: int = 0,
    ):
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make train` (make test trains before pytest)")
        self.workdir = workdir
        STARTED.append(self)
        self.port = free_port()
        self.action_port = action_port or free_port()
        # The token endpoints.yml needs; replicas sharing one action server share it.
        self.env = {**os.environ, "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN, **env, "PYTHONUNBUFFERED": "1",
                    "LOG_FORMAT": "json", "SANIC_HOST": "127.0.0.1"}  # SANIC_HOST: rasa-sdk's bind address
        self.processes: list = []
        self._start_actions = start_actions
        self._credentials = credentials if credentials is not None else (PROJECT / "credentials.example.yml").read_text()
        self._ready_path = "/webhooks/whatsapp/" if credentials is None else "/"
        self.workers = workers  # 0: `rasa run` runs the dialogue; else the web process and this many workers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RunningService:
        self.workdir.mkdir(parents=True, exist_ok=True)
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(
            (PROJECT / "endpoints.yml").read_text().replace("localhost:5055", f"127.0.0.1:{self.action_port}")
        )
        credentials = self.workdir / "credentials.yml"
        credentials.write_text(self._credentials)
        if self._start_actions:
            self._spawn("actions", [str(RASA), "run", "actions", "--port", str(self.action_port), "--actions", "actions"])
        if self.workers:
            python = str(PROJECT / ".venv" / "bin" / "python")
            self._spawn("web", [python, "-m", "supportdesk.processes.web", "--port", str(self.port), "--credentials",
                                str(credentials), "--endpoints", str(endpoints), "--model", str(MODEL)])
            for index in range(self.workers):
                self._spawn(f"worker{index + 1}", [python, "-m", "supportdesk.processes.dialogue_worker",
                                                   "--model", str(MODEL), "--endpoints", str(endpoints)])
        else:
            self._spawn(
                "rasa",
                [str(RASA), "run", "--port", str(self.port), "--credentials", str(credentials), "--endpoints",
                 str(endpoints), "--model", str(MODEL), "--interface", "127.0.0.1"],
            )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()  # no process outlives a start that failed
            raise
        if self._start_actions:
            self._check_action_server_refuses_strangers()
        return self

    def _check_action_server_refuses_strangers(self) -> None:
        """The started action server answers only calls carrying the token (what Rasa sends)."""
        stranger = requests.post(f"http://127.0.0.1:{self.action_port}/webhook", json={}, timeout=5)
        if stranger.status_code != 401:
            raise RuntimeError(f"the action server answered {stranger.status_code} to a call without its token")

    def _spawn(self, name: str, command: list) -> None:
        log = open(self.workdir / f"{name}-{self.port}.log", "ab")
        env = {**self.env, "DIALOGUE_WORKERS": str(self.workers)}  # as `make run` starts them: all, on these cores
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((name, process, log))

    def wait_ready(self) -> None:
        timeout = START_TIMEOUT_SECONDS * max(1, self.workers)  # the workers load the model at the same time
        deadline = time.time() + timeout
        checks = [f"{self.url}{self._ready_path}"]
        if self._start_actions:
            checks.append(f"http://127.0.0.1:{self.action_port}/health")
        while time.time() < deadline:
            for name, process, _ in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.workdir}")
            try:
                if all(requests.get(url, timeout=1).status_code == 200 for url in checks) and self._workers_started():
                    return  # a delivery stored before the workers start is picked up when they do
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"service did not start in {timeout}s; logs in {self.workdir}")

    def _workers_started(self) -> bool:
        """Every dialogue worker process logged that it takes turns (they serve no HTTP)."""
        logs = [self.workdir / f"{name}-{self.port}.log" for name, _, _ in self.processes if name.startswith("worker")]
        return all('"dialogue.worker.started"' in log.read_text(errors="replace") for log in logs)

    def stop(self, kill: bool = False) -> None:
        for _, process, log in reversed(self.processes):
            if process.poll() is None:
                process.kill() if kill else process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
        self.processes = []

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*.log")))

    def post_webhook(self, body: bytes, signature: Optional[str] = "sign") -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = sign(body, APP_SECRET)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return requests.post(f"{self.url}/webhooks/whatsapp/webhook", data=body, headers=headers, timeout=10)

    def api(self, method: str, path: str, token: Optional[str], **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{self.url}/webhooks/attendant{path}", headers=headers, timeout=15, **kwargs)


def work_settled(database_url: str) -> bool:
    """No stored message awaits its turn and no reply awaits sending: nothing more can happen by itself."""
    from supportdesk.platform.database import Database

    database = Database(database_url)
    try:
        inbox = database.execute("SELECT COUNT(*) AS n FROM inbox_messages WHERE state = 'pending'")
        outbox = database.execute("SELECT COUNT(*) AS n FROM outbox_messages WHERE state IN ('pending', 'sending')")
        return inbox[0]["n"] == 0 and outbox[0]["n"] == 0
    finally:
        database.close()


def wait_settled(database_url: str, timeout: float = 60.0) -> None:
    """Wait (polling, with a deadline) until `work_settled`."""
    deadline = time.time() + timeout
    while not work_settled(database_url):
        if time.time() > deadline:
            raise AssertionError(f"work still pending after {timeout} s")
        time.sleep(0.1)


def wait_for_turn(service: RunningService, wamid: str, timeout: float = 30.0) -> List[str]:
    """Wait until the turn of `wamid` is finished; the states of the replies it queued (none when silent)."""
    from supportdesk.platform.database import Database

    database = Database(service.env["DATABASE_URL"])
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if database.execute("SELECT 1 FROM inbox_messages WHERE wamid = ? AND state <> 'pending'", (wamid,)):
                rows = database.execute("SELECT state FROM outbox_messages WHERE answers_wamid = ? ORDER BY seq", (wamid,))
                return [row["state"] for row in rows]
            time.sleep(0.1)
        raise AssertionError(f"the turn of {wamid} did not finish in {timeout} s")
    finally:
        database.close()


def attendant_token(sub: str, role: str = "attendant") -> str:
    return mint_token(JWT_SECRET, sub, sub.title(), role)


def service_env(database_url: str, graph_url: str, **extra: str) -> Dict[str, str]:
    """Settings for a service wired to the fakes."""
    env = {
        # Empty values win over a developer's .env: nothing reaches a real service.
        "OPENAI_API_KEY": "",
        "OPENAI_BASE_URL": "",
        "FCM_SERVICE_ACCOUNT_FILE": "",
        "FCM_PROJECT_ID": "",
        "REDIS_URL": "",
        "WHATSAPP_ACCESS_TOKEN": "",
        "DATABASE_URL": database_url,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_API_URL": graph_url,
        "ATTENDANT_JWT_SECRET": JWT_SECRET,
        "BUSINESS_HOURS": "mon-sun 00:00-24:00",
        "BUSINESS_TIMEZONE": "UTC",
        "GRAPH_BACKOFF_BASE_SECONDS": "0.2",
        "GRAPH_BACKOFF_CAP_SECONDS": "1",
    }
    env.update(extra)
    return env
