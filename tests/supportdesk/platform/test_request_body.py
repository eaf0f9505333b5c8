"""Bodies read with a ceiling, on a streamed route and on one Sanic has already buffered."""

from __future__ import annotations

import itertools

import pytest
from sanic import Sanic, response

from supportdesk.platform.request_body import BodyTooLarge, read_body

_apps = itertools.count()
LIMIT = 10


def make_app() -> Sanic:
    app = Sanic(f"request_body_test_{next(_apps)}")

    async def answer(request):
        try:
            body = await read_body(request, LIMIT)
        except BodyTooLarge as refused:
            return response.json({"refused": refused.declared}, status=413)
        return response.json({"body": body.decode()})

    app.add_route(answer, "/streamed", methods=["POST"], stream=True)
    app.add_route(answer, "/buffered", methods=["POST"])
    return app


@pytest.mark.parametrize("path", ["/streamed", "/buffered"])
@pytest.mark.parametrize(
    "body, status, answer",
    [(b"", 200, {"body": ""}), (b"0123456789", 200, {"body": "0123456789"}), (b"0123456789+", 413, {"refused": 11})],
)
async def test_a_body_up_to_the_limit_is_read_and_a_longer_one_refused(path, body, status, answer):
    _, reply = await make_app().asgi_client.post(path, content=body)
    assert (reply.status, reply.json) == (status, answer)


async def test_a_chunked_body_is_refused_once_it_passes_the_limit():
    async def chunks():
        for _ in range(100):
            yield b"12345"

    _, reply = await make_app().asgi_client.post("/streamed", content=chunks())
    assert (reply.status, reply.json) == (413, {"refused": None})
