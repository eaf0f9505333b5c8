"""The console's simulator API and its paths answer every bad request with the project's error body."""

from __future__ import annotations

import itertools

import pytest
from sanic import Sanic

from channels.console import SECURITY_HEADERS, ConsoleInput
from supportdesk.platform.settings import reset_settings_cache
from tests.fixture_files import APP_SECRET, PHONE_NUMBER_ID

CUSTOMER = "16315551181"
_apps = itertools.count()


async def _ignore(_message) -> None:
    return None


@pytest.fixture
def app(monkeypatch) -> Sanic:
    monkeypatch.setenv("SIMULATOR_ENABLED", "true")
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    reset_settings_cache()
    app = Sanic(f"console_errors_{next(_apps)}")
    app.blueprint(ConsoleInput(webhook_url="http://127.0.0.1:9/never-called").blueprint(_ignore), url_prefix="/console")
    return app


@pytest.mark.parametrize(
    "body",
    [b"[" * 20_000 + b"]" * 20_000, b'{"wa_id": "' + CUSTOMER.encode() + b'", "text": "hi \\ud800"}',
     b'{"wa_id": "' + CUSTOMER.encode() + b'", "text": "hi", "name": "\\udfff"}'],
)
async def test_deep_nesting_and_lone_surrogates_are_malformed_json(app, body):
    _, response = await app.asgi_client.post("/console/simulator/api/messages", content=body)
    assert response.status == 400 and response.json["error"] == "malformed_json"


async def test_the_routers_404_and_405_have_the_body_and_the_consoles_headers(app):
    _, missing = await app.asgi_client.get(f"/console/simulator/api/nothing/{CUSTOMER}")
    assert missing.status == 404 and missing.json["error"] == "not_found"
    _, wrong_method = await app.asgi_client.delete("/console/simulator/api/messages")
    assert wrong_method.status == 405 and wrong_method.json["error"] == "method_not_allowed"
    assert sorted(wrong_method.headers["allow"].split(", ")) == ["GET", "POST"]
    for answer in (missing, wrong_method):
        assert {name: answer.headers[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS
