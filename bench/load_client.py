"""The benches' HTTP client: keep-alive HTTP/1.1 connections writing requests built in advance.

A general client (aiohttp) spends about 0.25 ms of Python per request; with 50 requests in flight
on one loop that is a queue of ~12 ms inside the load generator, which a latency bench would
report as the server's. This client writes the request's bytes and reads the status line, the
headers and `Content-Length` bytes of body: a few tens of microseconds. It speaks only what the
benches need (POST, `Content-Length` bodies, no chunked encoding, no redirects).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from typing import AsyncIterator, Dict, List, Tuple


class Response:
    """What a request got back, and how long the round trip took."""

    def __init__(self, status: int, body: bytes, seconds: float) -> None:
        self.status = status
        self.body = body
        self.seconds = seconds


class KeepAliveClient:
    """Up to `size` open connections to one server; a request waits for a free one."""

    def __init__(self, base_url: str, size: int) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 80
        self._size = size
        self._idle: asyncio.LifoQueue[Tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.LifoQueue()
        self._opened: List[asyncio.StreamWriter] = []
        self._opening = 0

    async def post(self, path: str, body: bytes, headers: Dict[str, str]) -> Response:
        """POST `body` to `path`; the time counts from the first byte written to the last byte read."""
        request = self._request_bytes(path, body, headers)
        async with self._connection() as (reader, writer):
            started = time.perf_counter()
            writer.write(request)
            status, length = await _read_head(reader)
            payload = await reader.readexactly(length)
            return Response(status, payload, time.perf_counter() - started)

    def _request_bytes(self, path: str, body: bytes, headers: Dict[str, str]) -> bytes:
        lines = [f"POST {path} HTTP/1.1", f"Host: {self._host}:{self._port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        if self._idle.empty() and len(self._opened) + self._opening < self._size:
            self._opening += 1
            try:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            finally:
                self._opening -= 1
            self._opened.append(writer)
        else:
            reader, writer = await self._idle.get()
        try:
            yield reader, writer
        except BaseException:
            writer.close()  # its state is unknown: never reused
            self._opened.remove(writer)
            raise
        self._idle.put_nowait((reader, writer))

    async def warm_up(self, path: str, body: bytes, headers: Dict[str, str]) -> None:
        """Open every connection before measuring (what a sender talking all day has)."""
        await asyncio.gather(*(self.post(path, body, headers) for _ in range(self._size)))

    async def close(self) -> None:
        """Close every connection."""
        for writer in self._opened:
            writer.close()
        for writer in self._opened:
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        self._opened.clear()


async def _read_head(reader: asyncio.StreamReader) -> Tuple[int, int]:
    """The status code and `Content-Length` of the response being read."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, length
