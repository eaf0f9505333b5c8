"""A failing action is answered 500 with the project's body: never the request, never the number, in the answer or the log."""

from __future__ import annotations

import logging

import pytest
from rasa_sdk import Action
from rasa_sdk import __version__ as rasa_sdk_version
from rasa_sdk.endpoint import create_app
from sanic import Sanic

import actions
from supportdesk.platform.settings import reset_settings_cache

TOKEN = "action-server-token-0123456789abcdef"
CUSTOMER = "16315551181"
WORDS = "please call me back about my biopsy results"


class ActionThatFails(Action):
    """An action with a bug: its exception names the customer."""

    def name(self) -> str:
        return "action_that_fails_in_tests"

    async def run(self, dispatcher, tracker, domain):
        raise RuntimeError(f"no record for {tracker.sender_id}")


@pytest.fixture
def server(monkeypatch) -> Sanic:
    """rasa-sdk's own app, set up as `rasa run actions --actions actions` sets it up."""
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    reset_settings_cache()
    Sanic.test_mode = True  # several apps named "rasa_sdk" in one process (sanic-testing sets it too, for good)
    app = create_app("actions")
    actions.serve_on(app)
    return app


def action_call() -> dict:
    tracker = {"sender_id": CUSTOMER, "slots": {}, "latest_message": {"intent": {"name": "ask"}, "text": WORDS},
               "events": [], "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
    return {"next_action": "action_that_fails_in_tests", "sender_id": CUSTOMER, "tracker": tracker, "domain": {},
            "version": rasa_sdk_version}


async def test_a_failing_action_is_a_500_without_the_request(server, caplog):
    caplog.set_level(logging.INFO)
    _, response = await server.asgi_client.post("/webhook", json=action_call(), headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 500
    assert response.json == {"error": "internal_error", "message": "Internal Server Error"}
    logged = "\n".join(  # what a handler writes: the message, string fields, the traceback
        " ".join([record.getMessage(), record.exc_text or "", *(v for v in vars(record).values() if isinstance(v, str))])
        for record in caplog.records
    )
    assert "http.request.failed" in logged and "no record for •••••••1181" in logged
    assert CUSTOMER not in logged and WORDS not in logged


async def test_errors_before_an_action_have_the_body_too(server):
    _, missing = await server.asgi_client.get("/nothing", headers={"Authorization": f"Bearer {TOKEN}"})
    assert missing.status == 404 and missing.json["error"] == "not_found"
    _, wrong_method = await server.asgi_client.put("/webhook", headers={"Authorization": f"Bearer {TOKEN}"})
    assert wrong_method.status == 405 and wrong_method.headers["allow"] == "POST"
