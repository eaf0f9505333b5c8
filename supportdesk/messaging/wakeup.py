"""Wake-ups between processes: "new inbox rows" and "new outbox rows", without polling delays.

The web process stores a webhook and the dialogue workers must start the turn at once; a
worker queues replies and the sender must send them at once. A signal carries no data (the
rows are in the database, which stays the one record); a lost signal only costs the
loops' fallback poll. Two transports:

- PostgreSQL: `NOTIFY` on a channel per topic; listeners keep one `LISTEN` connection and
  reconnect after a restart of the server.
- SQLite (one host): a Unix datagram socket per listening process in `<database>.wake/`;
  `notify` sends one byte to every socket of the topic (stale ones are removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any, Callable, List, Optional

from supportdesk.platform.database import Database

logger = logging.getLogger(__name__)

INBOX = "inbox"  # new inbound messages were stored
OUTBOX = "outbox"  # new outbound messages were queued
RECONNECT_SECONDS = 1.0


def channel_name(topic: str) -> str:
    """The PostgreSQL `LISTEN` channel of a topic."""
    return f"supportdesk_{topic}"


class Listener:
    """One topic's listening end, calling `callback` on this loop for each signal batch."""

    async def close(self) -> None:
        """Stop listening."""


class WakeSignals:
    """Sends and receives the signals of one database (`notify` is safe from any thread)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        path = database.sqlite_path
        self._directory: Optional[Path] = None if path is None else path.parent / f"{path.name}.wake"
        self._sender: Optional[socket.socket] = None

    def notify(self, topic: str) -> None:
        """Signal every listener of `topic` (never raises: a lost signal costs only a poll)."""
        if self._directory is None:
            try:  # off the caller's event loop: a round trip to the server
                asyncio.get_running_loop().run_in_executor(None, self._notify_postgres, topic)
            except RuntimeError:
                self._notify_postgres(topic)
            return
        try:
            self._notify_sockets(topic)
        except Exception as error:
            logger.debug("wakeup.notify.failed", extra={"topic": topic, "error": type(error).__name__})

    def _notify_postgres(self, topic: str) -> None:
        try:
            self._database.execute("SELECT pg_notify(?, '') AS sent", (channel_name(topic),))
        except Exception as error:
            logger.debug("wakeup.notify.failed", extra={"topic": topic, "error": type(error).__name__})

    def _notify_sockets(self, topic: str) -> None:
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        try:
            names = os.listdir(self._directory)
        except FileNotFoundError:
            return
        for name in names:
            if not name.startswith(f"{topic}-"):
                continue
            target = str(self._directory / name)
            try:
                self._sender.sendto(b"1", target)
            except BlockingIOError:
                pass  # its queue is full: it has wake-ups waiting already
            except OSError as error:
                if error.errno in (errno.ECONNREFUSED, errno.ENOENT):
                    with contextlib.suppress(OSError):
                        os.unlink(target)  # its process is gone

    async def listen(self, topic: str, callback: Callable[[], None]) -> Listener:
        """Call `callback` on the running loop whenever `topic` is signalled."""
        if self._directory is None:
            listener: Listener = _PostgresListener(self._database.url, channel_name(topic), callback)
        else:
            listener = _SocketListener(self._directory, topic, callback)
        await listener.start()  # type: ignore[attr-defined]
        return listener

    def close(self) -> None:
        """Close the sending socket."""
        if self._sender is not None:
            self._sender.close()
            self._sender = None


class _SocketListener(Listener):
    def __init__(self, directory: Path, topic: str, callback: Callable[[], None]) -> None:
        self._path = directory / f"{topic}-{os.getpid()}-{uuid.uuid4().hex[:6]}.sock"
        self._callback = callback
        self._socket: Optional[socket.socket] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._socket.bind(str(self._path))
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._socket.fileno(), self._readable)

    def _readable(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while self._socket.recv(64):
                pass
        self._callback()

    async def close(self) -> None:
        if self._socket is not None:
            self._loop.remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
            with contextlib.suppress(OSError):
                os.unlink(self._path)


class _PostgresListener(Listener):
    def __init__(self, url: str, channel: str, callback: Callable[[], None]) -> None:
        self._url = url
        self._channel = channel
        self._callback = callback
        self._connection: Any = None
        self._task: Optional[asyncio.Task] = None
        self._lost: Optional[asyncio.Event] = None

    async def start(self) -> None:
        self._lost = asyncio.Event()
        self._task = asyncio.create_task(self._keep_listening())

    async def _keep_listening(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(None, self._connect)
            except Exception as error:
                logger.warning("wakeup.listen.failed", extra={"channel": self._channel, "error": type(error).__name__})
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            self._lost.clear()
            loop.add_reader(self._connection.fileno(), self._readable)
            self._callback()  # signals sent while we were not listening
            await self._lost.wait()
            self._drop(loop)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _connect(self) -> None:
        import psycopg2

        connection = psycopg2.connect(self._url, connect_timeout=5)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {self._channel}")
        self._connection = connection

    def _readable(self) -> None:
        try:
            self._connection.poll()
        except Exception:
            self._lost.set()
            return
        if self._connection.notifies:
            self._connection.notifies.clear()
            self._callback()

    def _drop(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(Exception):
            loop.remove_reader(self._connection.fileno())
        with contextlib.suppress(Exception):
            self._connection.close()
        self._connection = None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._drop(asyncio.get_running_loop())


def listeners_closed(listeners: List[Listener]) -> Any:
    """Close every listener (for `await` at shutdown)."""
    return asyncio.gather(*(listener.close() for listener in listeners), return_exceptions=True)
