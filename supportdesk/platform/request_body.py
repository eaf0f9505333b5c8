"""Request bodies read with a ceiling: refused by `Content-Length` before a byte is read, never read past it.

Sanic buffers a body before a normal handler runs, up to the server's `REQUEST_MAX_SIZE`; a route
declared with `stream=True` gets the request after its headers, and reads the body through here.
"""

from __future__ import annotations

from typing import Any, Optional

from sanic.request import Request


class BodyTooLarge(Exception):
    """The body is, or says it is, larger than the route's limit; `declared` is its Content-Length, if any."""

    def __init__(self, limit: int, declared: Optional[int]) -> None:
        super().__init__(limit, declared)
        self.limit = limit
        self.declared = declared


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body of a streamed request; BodyTooLarge as soon as it exceeds `limit` bytes.

    A declared `Content-Length` over the limit is refused before reading; a chunked body without one
    is read only until it passes the limit. Either way Sanic then drains at most `limit` bytes more
    before it closes the connection, instead of the server-wide maximum.
    """
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        _stop_draining_after(request, limit)
        raise BodyTooLarge(limit, declared)
    if request.body or request.stream is None:  # a route without stream=True: Sanic has read it already
        if len(request.body) > limit:
            raise BodyTooLarge(limit, declared)
        return request.body
    received = bytearray()
    stream: Any = request.stream
    async for chunk in stream:
        received += chunk
        if len(received) > limit:
            _stop_draining_after(request, limit)
            raise BodyTooLarge(limit, declared)
    return bytes(received)


def _declared_length(request: Request) -> Optional[int]:
    value = request.headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _stop_draining_after(request: Request, limit: int) -> None:
    """After the answer Sanic reads what is left of a body up to this size (default: the server's maximum)."""
    if request.stream is not None:
        request.stream.request_max_size = limit
