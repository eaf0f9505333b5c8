"""A loopback HTTP server in its own thread, the base of every fake peer in the tests.

Fakes speak the real wire protocol, so the real client libraries (sync or async) talk to
them exactly as they would to the real service. Each fake records the requests it got and
replays scripted answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: bytes
    received_at: float = 0.0  # time.monotonic() when the request reached the fake

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclasses.dataclass
class ScriptedAnswer:
    """An answer the fake gives instead of its normal one; `delay` seconds first."""

    status: int
    body: Any
    delay: float = 0.0
    headers: Optional[Dict[str, str]] = None


class LoopbackServer:
    """Runs an aiohttp application on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self) -> None:
        self.requests: List[RecordedRequest] = []
        self._scripted: Dict[str, List[ScriptedAnswer]] = {}
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self._got_request = threading.Condition(self._lock)
        self._in_flight = 0
        self._idle = threading.Condition()
        self.port = 0

    # subclasses add their routes here
    def routes(self, app: web.Application) -> None:
        """Add the fake's routes to `app`."""
        raise NotImplementedError

    def tracked(self, handler: Handler) -> Handler:
        """Wrap a handler so `stop()` waits for answers still being delayed."""

        async def counted(request: web.Request) -> web.StreamResponse:
            with self._idle:
                self._in_flight += 1
            try:
                return await handler(request)
            finally:
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()

        return counted

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def script(self, key: str, *answers: ScriptedAnswer) -> None:
        """Queue answers for requests whose route key is `key` (used once each, in order)."""
        with self._lock:
            self._scripted.setdefault(key, []).extend(answers)

    def next_scripted(self, key: str) -> Optional[ScriptedAnswer]:
        """Pop the next scripted answer for `key`, if any."""
        with self._lock:
            queue = self._scripted.get(key) or []
            return queue.pop(0) if queue else None

    async def record(self, request: web.Request) -> RecordedRequest:
        """Store the request (called by the fake's handlers)."""
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=await request.read(),
            received_at=time.monotonic(),
        )
        with self._got_request:
            self.requests.append(recorded)
            self._got_request.notify_all()
        return recorded

    async def answer(self, scripted: ScriptedAnswer) -> web.Response:
        """Turn a scripted answer into a response, after its delay."""
        if scripted.delay:
            await asyncio.sleep(scripted.delay)
        body = scripted.body if isinstance(scripted.body, (bytes, str)) else json.dumps(scripted.body)
        return web.Response(
            status=scripted.status,
            body=body.encode() if isinstance(body, str) else body,
            content_type="application/json",
            headers=scripted.headers,
        )

    def wait_for_requests(self, count: int, timeout: float = 10.0, path_contains: str = "") -> List[RecordedRequest]:
        """Block until at least `count` matching requests arrived; raise on timeout."""
        def matching() -> List[RecordedRequest]:
            return [r for r in self.requests if path_contains in r.path]

        with self._got_request:
            if not self._got_request.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} requests to {path_contains!r}, got {len(matching())}")
            return matching()

    def start(self) -> LoopbackServer:
        """Start serving on a free loopback port."""
        started = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=8 * 1024 * 1024)
            self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def stop(self) -> None:
        """Let answers still being delayed finish (a client may have timed out), then stop."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=10)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
