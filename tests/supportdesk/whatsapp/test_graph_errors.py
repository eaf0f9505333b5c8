"""Every Graph error fixture maps to the right typed error, reason and retry decision."""

import json

import pytest

from supportdesk.whatsapp.graph_errors import (
    AuthorizationError,
    GraphApiError,
    IntegrityError,
    PairRateLimitError,
    RecipientError,
    ReEngagementError,
    RequestError,
    ServerError,
    ThrottlingError,
    ThroughputLimitError,
    TransportError,
    error_from_code,
    error_from_response,
    error_from_webhook,
)
from tests.fixture_files import WHATSAPP_FIXTURES, fixture_bytes

# fixture -> (HTTP status Meta answers with, class, code, reason, transient)
SEND_ERRORS = {
    "send_error_130429.json": (400, ThroughputLimitError, 130429, "rate_limited", True),
    "send_error_131000.json": (500, ServerError, 131000, "server_error", True),
    "send_error_131026.json": (400, RecipientError, 131026, "undeliverable", False),
    "send_error_131047.json": (400, ReEngagementError, 131047, "window_closed", False),
    "send_error_100_invalid_param.json": (400, RequestError, 100, "invalid_parameter", False),
}


def test_the_table_covers_every_send_error_fixture():
    assert sorted(path.name for path in WHATSAPP_FIXTURES.glob("send_error_*.json")) == sorted(SEND_ERRORS)


@pytest.mark.parametrize("fixture", sorted(SEND_ERRORS))
@pytest.mark.parametrize("as_type", [bytes, dict], ids=["bytes", "dict"])
def test_send_error_fixtures(fixture, as_type):
    status, cls, code, reason, transient = SEND_ERRORS[fixture]
    raw = fixture_bytes(fixture)
    fields = json.loads(raw)["error"]
    error = error_from_response(status, raw if as_type is bytes else json.loads(raw))
    assert type(error) is cls and isinstance(error, GraphApiError)
    assert (error.code, error.reason, error.transient, error.http_status) == (code, reason, transient, status)
    assert (error.message, error.fbtrace_id) == (fields["message"], fields["fbtrace_id"])
    assert error.details == fields.get("error_data", {}).get("details")
    assert error.subcode is None


@pytest.mark.parametrize("cls", [ThroughputLimitError, PairRateLimitError])
def test_meta_rate_limits_are_throttling_with_a_class_of_their_own(cls):
    # 130429 slows the whole number down, 131056 one customer: the sender decides on the class.
    assert issubclass(cls, ThrottlingError) and cls("x").transient is True


def test_re_engagement_is_a_recipient_error_that_is_not_retried():
    error = error_from_response(400, fixture_bytes("send_error_131047.json"))
    assert isinstance(error, RecipientError) and not error.transient
    assert error.details.startswith("Message failed to send because more than 24 hours")


def test_expired_token_is_an_authorization_error_with_its_subcode():
    body = {"error": {"message": "Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463,
                      "fbtrace_id": "AbC"}}
    error = error_from_response(401, body)
    assert type(error) is AuthorizationError and not error.transient
    assert (error.code, error.subcode, error.reason, error.fbtrace_id) == (190, 463, "access_token_invalid", "AbC")


@pytest.mark.parametrize(
    "status, cls, transient",
    [(500, ServerError, True), (502, ServerError, True), (503, ServerError, True), (429, ThrottlingError, True),
     (400, RequestError, False), (404, RequestError, False), (401, AuthorizationError, False),
     (403, AuthorizationError, False)],
)
@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", None, b"\xff\xfe", b"[1, 2]", b'{"error": "nope"}'])
def test_bodies_that_are_not_graph_errors_are_classified_by_http_status(status, cls, transient, body):
    error = error_from_response(status, body)
    assert type(error) is cls and error.transient is transient
    assert (error.http_status, error.code, error.fbtrace_id) == (status, None, None)


@pytest.mark.parametrize(
    "code, cls, reason",
    [
        (0, AuthorizationError, "auth_failed"), (3, AuthorizationError, "permission_denied"),
        (10, AuthorizationError, "permission_denied"), (250, AuthorizationError, "permission_denied"),
        (4, ThrottlingError, "rate_limited"), (80007, ThrottlingError, "rate_limited"),
        (131048, ThrottlingError, "spam_rate_limited"), (131056, PairRateLimitError, "pair_rate_limited"),
        (131021, RecipientError, "recipient_is_sender"), (131051, RequestError, "unsupported_message_type"),
        (131008, RequestError, "missing_parameter"), (131009, RequestError, "invalid_parameter_value"),
        (131053, RequestError, "media_upload_failed"), (132000, RequestError, "template_parameters_mismatch"),
        (132012, RequestError, "template_error"), (368, IntegrityError, "policy_blocked"),
        (131031, IntegrityError, "account_locked"), (1, ServerError, "server_error"),
        (2, ServerError, "service_unavailable"), (131016, ServerError, "service_unavailable"),
        (133004, ServerError, "server_error"), (133010, RequestError, "number_not_registered"),
    ],
)
def test_codes_outside_the_fixtures(code, cls, reason):
    error = error_from_code(code, "text")
    assert (type(error), error.reason, error.code, error.message) == (cls, reason, code, "text")


@pytest.mark.parametrize(
    "cls, transient",
    [(AuthorizationError, False), (ThrottlingError, True), (RecipientError, False), (ReEngagementError, False),
     (RequestError, False), (IntegrityError, False), (ServerError, True), (TransportError, True)],
)
def test_transient_is_a_class_attribute(cls, transient):
    assert cls.transient is transient and cls("x").transient is transient


@pytest.mark.parametrize(
    "http_status, cls",
    [(None, RequestError), (400, RequestError), (401, AuthorizationError), (429, ThrottlingError), (503, ServerError)],
)
def test_unknown_codes_fall_back_to_the_http_status(http_status, cls):
    error = error_from_code(999999, "new", http_status=http_status)
    assert type(error) is cls and error.code == 999999 and error.http_status == http_status


def test_string_codes_are_read_as_numbers():
    error = error_from_response(400, {"error": {"code": "131026", "error_subcode": "2494010", "message": "m"}})
    assert type(error) is RecipientError and (error.code, error.subcode) == (131026, 2494010)


def test_transport_errors_have_no_code():
    error = TransportError("Graph API timeout")
    assert (error.code, error.reason, error.transient, str(error)) == (None, "network_error", True, "Graph API timeout")


def test_webhook_status_error_uses_the_same_classifier():
    value = json.loads(fixture_bytes("status_failed_131047.json"))["entry"][0]["changes"][0]["value"]
    item = value["statuses"][0]["errors"][0]
    error = error_from_webhook(item)
    assert type(error) is ReEngagementError and not error.transient
    assert (error.code, error.reason, error.message, error.details) == (
        131047, "window_closed", "Re-engagement message", item["error_data"]["details"]
    )
    assert error.http_status is None and error.fbtrace_id is None


def test_webhook_error_without_message_uses_its_title_and_survives_missing_fields():
    assert error_from_webhook({"code": 131026, "title": "Message undeliverable"}).message == "Message undeliverable"
    unknown = error_from_webhook({})
    assert type(unknown) is RequestError and unknown.code is None and unknown.details is None
