"""Every error fixture maps to the right typed error, reason and retry decision."""

import json

import pytest

from supportdesk.graph_errors import (
    AuthorizationError,
    ReEngagementError,
    RecipientError,
    RequestError,
    ServerError,
    ThrottlingError,
    error_from_code,
    error_from_response,
    error_from_webhook,
)
from tests.fixture_files import fixture_bytes


@pytest.mark.parametrize(
    "fixture, status, cls, code, reason, transient",
    [
        ("send_error_130429.json", 400, ThrottlingError, 130429, "rate_limited", True),
        ("send_error_131000.json", 500, ServerError, 131000, "server_error", True),
        ("send_error_131026.json", 400, RecipientError, 131026, "undeliverable", False),
        ("send_error_131047.json", 400, ReEngagementError, 131047, "window_closed", False),
        ("send_error_100_invalid_param.json", 400, RequestError, 100, "invalid_parameter", False),
    ],
)
def test_fixture_errors(fixture, status, cls, code, reason, transient):
    body = fixture_bytes(fixture)
    error = error_from_response(status, body)
    assert type(error) is cls
    assert (error.code, error.reason, error.transient, error.http_status) == (code, reason, transient, status)
    assert error.fbtrace_id == json.loads(body)["error"]["fbtrace_id"]
    assert error.details == json.loads(body)["error"].get("error_data", {}).get("details")


def test_expired_token_is_an_authorization_error_not_retried():
    body = {"error": {"message": "Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}}
    error = error_from_response(401, body)
    assert isinstance(error, AuthorizationError) and not error.transient and error.subcode == 463
    assert error.reason == "access_token_invalid"


@pytest.mark.parametrize("status, cls", [(500, ServerError), (502, ServerError), (429, ServerError), (400, RequestError), (403, AuthorizationError)])
def test_bodies_that_are_not_graph_json_are_classified_by_http_status(status, cls):
    error = error_from_response(status, b"<html>oops</html>")
    assert isinstance(error, cls) and error.http_status == status and error.code is None


@pytest.mark.parametrize("code, cls", [(368, "IntegrityError"), (131056, "ThrottlingError"), (250, "AuthorizationError"), (999999, "RequestError")])
def test_codes_outside_the_fixtures(code, cls):
    assert type(error_from_code(code)).__name__ == cls


def test_webhook_status_error_uses_the_same_classifier():
    status = json.loads(fixture_bytes("status_failed_131047.json"))["entry"][0]["changes"][0]["value"]["statuses"][0]
    error = error_from_webhook(status["errors"][0])
    assert isinstance(error, ReEngagementError) and error.reason == "window_closed"
