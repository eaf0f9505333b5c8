"""The action server obeys only Rasa: rasa-sdk's real app, set up by `actions`, refuses calls without the token."""

import logging
from pathlib import Path

import pytest
from rasa_sdk import __version__ as rasa_sdk_version
from rasa_sdk.endpoint import create_app
from sanic import Sanic

import actions  # imported first, so the app below is set up only by the explicit `serve_on`
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime

PROJECT = Path(__file__).resolve().parents[3]
TOKEN = "action-server-token-0123456789abcdef"
CUSTOMER = "447700900123"
CONFIRMED_APPOINTMENT = {
    "appointment_confirmed": True,
    "appointment_starts_at": 1715698800.0,
    "appointment_time_display": "Tuesday 14 May at 15:00",
    "appointment_service": "call 555 0100 now",
}


def action_call(name: str = "action_submit_appointment", slots=None) -> dict:
    """What Rasa posts to `/webhook` to run one action."""
    tracker = {
        "sender_id": CUSTOMER,
        "slots": slots if slots is not None else CONFIRMED_APPOINTMENT,
        "latest_message": {"intent": {"name": "affirm"}, "text": "yes"},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {"next_action": name, "sender_id": CUSTOMER, "tracker": tracker, "domain": {}, "version": rasa_sdk_version}


@pytest.fixture
def server(monkeypatch) -> Sanic:
    """rasa-sdk's own app for the `actions` package, set up as `rasa run actions` sets it up."""
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    reset_settings_cache()
    Sanic.test_mode = True  # several apps named "rasa_sdk" in one process
    app = create_app("actions")
    actions.serve_on(app)
    return app


def stored_appointments() -> list:
    return get_runtime().database.execute("SELECT conversation_id, service FROM appointments")


async def test_a_call_without_the_token_is_refused_and_runs_no_action(server, caplog):
    body = action_call()
    _, response = await server.asgi_client.post("/webhook", json=body)
    assert response.status == 401
    assert response.json == {"error": "unauthorized", "message": "Missing bearer token."}
    assert stored_appointments() == []
    assert [(r.getMessage(), r.reason) for r in caplog.records if r.name == "supportdesk.platform.action_server"] == [
        ("action_server.call_refused", "missing_token")
    ]


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}x", "Bearer ", f"Bearer {TOKEN[:-1]}", b"Bearer \xff\xfe"])
async def test_a_call_with_a_wrong_token_is_refused_without_echoing_it(server, authorization):
    _, response = await server.asgi_client.post("/webhook", json=action_call(), headers={"Authorization": authorization})
    assert response.status == 403
    assert response.json == {"error": "forbidden", "message": "Wrong bearer token."}
    assert stored_appointments() == []


@pytest.mark.parametrize("authorization", [TOKEN, f"Basic {TOKEN}", f"bearer{TOKEN}"])
async def test_a_token_not_sent_as_bearer_is_missing(server, authorization):
    _, response = await server.asgi_client.post("/webhook", json=action_call(), headers={"Authorization": authorization})
    assert response.status == 401
    assert response.json["error"] == "unauthorized"


async def test_listing_the_actions_needs_the_token_too(server):
    _, refused = await server.asgi_client.get("/actions")
    _, listed = await server.asgi_client.get("/actions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status == 401
    assert listed.status == 200 and {"name": "action_request_handoff"} in listed.json


async def test_health_answers_without_the_token(server):
    _, response = await server.asgi_client.get("/health")
    assert response.status == 200 and response.json == {"status": "ok"}


async def test_the_right_token_runs_the_action(server):
    _, response = await server.asgi_client.post(
        "/webhook", json=action_call("action_reset_appointment"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status == 200
    assert [event["name"] for event in response.json["events"]] == [
        "appointment_time", "appointment_time_display", "appointment_starts_at", "appointment_service",
        "appointment_note", "appointment_confirmed",
    ]


async def test_without_a_configured_token_every_call_is_refused(monkeypatch, caplog):
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    reset_settings_cache()
    Sanic.test_mode = True
    app = create_app("actions")
    actions.serve_on(app)
    for authorization in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        _, response = await app.asgi_client.post("/webhook", json=action_call(), headers=authorization)
        assert response.status == 401
        assert response.json["error"] == "unauthorized"
    assert stored_appointments() == []
    assert {r.getMessage() for r in caplog.records if r.levelno == logging.ERROR} == {"action_server.token_not_configured"}


async def test_what_endpoints_yml_makes_rasa_send_is_accepted(server):
    from rasa.utils.endpoints import read_endpoint_config

    endpoint = read_endpoint_config(str(PROJECT / "endpoints.yml"), "action_endpoint")
    assert endpoint.headers == {"Authorization": f"Bearer {TOKEN}"} and endpoint.token is None  # never in the URL
    _, response = await server.asgi_client.post("/webhook", json=action_call("action_reset_appointment"), headers=endpoint.headers)
    assert response.status == 200
