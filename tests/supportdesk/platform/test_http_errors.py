"""The one error body of every Sanic channel."""

import itertools
import json

import pytest
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.platform.http_errors import ChannelBlueprint, MalformedJson, error_response, json_object

_apps = itertools.count()


def test_error_body_status_and_content_type() -> None:
    answer = error_response(409, "not_holder", "Claim the conversation before replying.")
    assert answer.status == 409
    assert answer.content_type == "application/json"
    assert json.loads(answer.body) == {"error": "not_holder", "message": "Claim the conversation before replying."}


def test_extra_headers_are_added() -> None:
    answer = error_response(404, "not_found", "No such console file.", {"X-Frame-Options": "DENY"})
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert json.loads(answer.body) == {"error": "not_found", "message": "No such console file."}


@pytest.mark.parametrize(
    "body", [b"[" * 50_000 + b"]" * 50_000, b'{"text": "\\ud800"}', b'{"\\udc00": 1}', b"\xff{}", b"[1]", b"{oops"]
)
def test_bodies_no_database_or_peer_could_take_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedJson):
        json_object(body)


def test_a_json_object_and_an_empty_body_parse() -> None:
    assert json_object(b'{"text": "ol\\u00e1 \\ud83d\\ude00"}') == {"text": "olá 😀"}
    assert json_object(b"  ") == {}


def _app_with_a_channel() -> Sanic:
    app = Sanic(f"http_errors_{next(_apps)}")
    channel = ChannelBlueprint("channel", {"X-Frame-Options": "DENY"})

    @channel.route("/items/<item_id>", methods=["GET"])
    async def item(_: Request, item_id: str) -> HTTPResponse:
        raise RuntimeError(f"item {item_id} exploded")

    @channel.route("/items/<item_id>", methods=["POST"])
    async def change(_: Request, item_id: str) -> HTTPResponse:
        return response.json({})

    @app.route("/elsewhere/<item_id>", methods=["GET"])
    async def elsewhere(_: Request, item_id: str) -> HTTPResponse:
        return response.json({})

    app.blueprint(channel, url_prefix="/webhooks/channel")
    return app


async def test_errors_under_the_channels_prefix_have_the_body_and_its_headers(caplog) -> None:
    client = _app_with_a_channel().asgi_client
    _, missing = await client.get("/webhooks/channel/nothing")
    assert (missing.status, missing.json["error"], missing.headers["x-frame-options"]) == (404, "not_found", "DENY")
    _, wrong_method = await client.delete("/webhooks/channel/items/16315551181")  # one route per method: Sanic says 404
    assert (wrong_method.status, wrong_method.json["error"], wrong_method.headers["allow"]) == (405, "method_not_allowed", "GET, POST")
    _, failed = await client.get("/webhooks/channel/items/16315551181")
    assert failed.status == 500 and failed.json == {"error": "internal_error", "message": "Internal Server Error"}
    assert "16315551181" not in failed.text
    [logged] = [record for record in caplog.records if record.getMessage() == "http.request.failed"]
    assert logged.path == "/webhooks/channel/items/•••••••1181"


async def test_paths_outside_the_prefix_keep_sanics_answers() -> None:
    client = _app_with_a_channel().asgi_client
    _, missing = await client.get("/webhooks/other")
    assert missing.status == 404 and missing.json is None and "x-frame-options" not in missing.headers
    _, wrong_method = await client.post("/elsewhere/1")
    assert wrong_method.status == 405 and wrong_method.json is None
