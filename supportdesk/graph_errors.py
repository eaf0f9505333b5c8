"""Graph API errors as typed exceptions, classified by Cloud API `code` (whatsapp_contract.md §7).

One classifier serves the three places errors arrive: a failed send, `statuses[].errors[]`
and `value.errors[]` of a webhook. `transient` says whether retrying the same request can help.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Type, Union


class GraphApiError(Exception):
    """A Graph API failure with Meta's fields (never the access token)."""

    transient = False
    default_reason = "request_failed"

    def __init__(
        self,
        message: str = "",
        code: Optional[int] = None,
        subcode: Optional[int] = None,
        details: Optional[str] = None,
        fbtrace_id: Optional[str] = None,
        http_status: Optional[int] = None,
    ) -> None:
        super().__init__(f"({code}) {message}" if code is not None else message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status

    @property
    def reason(self) -> str:
        """A short snake_case reason for the delivery record attendants see."""
        return _REASONS.get(self.code, self.default_reason)


class AuthorizationError(GraphApiError):
    """Token expired/invalid or a permission missing: stop and alert, keep the queue."""

    default_reason = "auth_failed"


class ThrottlingError(GraphApiError):
    """A rate limit: retry later, slower."""

    transient = True
    default_reason = "rate_limited"


class RecipientError(GraphApiError):
    """The customer cannot get this message (undeliverable, blocked...)."""

    default_reason = "recipient_unavailable"


class ReEngagementError(RecipientError):
    """131047: more than 24 h since the customer last wrote; free-form text is refused."""

    default_reason = "window_closed"


class RequestError(GraphApiError):
    """Our request is wrong (parameter, template, message type): never resend it unchanged."""

    default_reason = "invalid_request"


class IntegrityError(GraphApiError):
    """The number or account is blocked for policy reasons: pause and alert an operator."""

    default_reason = "account_blocked"


class ServerError(GraphApiError):
    """Something went wrong at Meta: retry with backoff."""

    transient = True
    default_reason = "server_error"


class TransportError(GraphApiError):
    """No usable answer: timeout, connection error, or a body that is not Graph JSON."""

    transient = True
    default_reason = "network_error"


_CLASS_BY_CODE: Dict[int, Type[GraphApiError]] = {
    0: AuthorizationError, 3: AuthorizationError, 10: AuthorizationError, 190: AuthorizationError,
    4: ThrottlingError, 80007: ThrottlingError, 130429: ThrottlingError, 131048: ThrottlingError,
    131056: ThrottlingError,
    131026: RecipientError, 131021: RecipientError, 131049: RecipientError, 130472: RecipientError,
    131062: RecipientError,
    131047: ReEngagementError,
    100: RequestError, 131008: RequestError, 131009: RequestError, 131051: RequestError, 131053: RequestError,
    132000: RequestError, 132001: RequestError, 133010: RequestError,
    368: IntegrityError, 131031: IntegrityError,
    1: ServerError, 2: ServerError, 131000: ServerError, 131016: ServerError,
}
_REASONS: Dict[Optional[int], str] = {
    130429: "rate_limited", 131056: "pair_rate_limited", 131048: "spam_rate_limited", 4: "rate_limited",
    80007: "rate_limited", 131047: "window_closed", 131026: "undeliverable",
    131049: "marketing_not_delivered", 131051: "unsupported_message_type", 100: "invalid_parameter",
    131008: "missing_parameter", 131009: "invalid_parameter_value", 190: "access_token_invalid",
    368: "policy_blocked", 131031: "account_locked", 131000: "server_error", 131016: "service_unavailable",
    132000: "template_parameters_mismatch", 132001: "template_not_found", 133010: "number_not_registered",
}


def _class_for(code: Optional[int], http_status: Optional[int]) -> Type[GraphApiError]:
    if code is not None:
        if code in _CLASS_BY_CODE:
            return _CLASS_BY_CODE[code]
        if 200 <= code <= 299:
            return AuthorizationError
        if 133000 <= code < 134000:
            return ServerError if code in (133004,) else RequestError
    if http_status is not None:
        if http_status in (401, 403):
            return AuthorizationError
        if http_status == 429:
            return ThrottlingError
        if http_status >= 500:
            return ServerError
    return RequestError


def error_from_code(code: Optional[int], message: str = "", **fields: Any) -> GraphApiError:
    """The typed error for a Cloud API code (HTTP status in `http_status` for unknown codes)."""
    return _class_for(code, fields.get("http_status"))(message, code=code, **fields)


def _int(value: Any) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def error_from_response(http_status: int, body: Union[bytes, str, Dict[str, Any], None]) -> GraphApiError:
    """The typed error of a non-2xx Graph answer; a body that is not Graph JSON is classified by HTTP status."""
    data: Any = body
    if isinstance(body, (bytes, str)):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        cls = ServerError if http_status >= 500 or http_status == 429 else _class_for(None, http_status)
        return cls(f"HTTP {http_status} without a Graph error body", http_status=http_status)
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    return error_from_code(
        _int(error.get("code")),
        str(error.get("message") or ""),
        subcode=_int(error.get("error_subcode")),
        details=error_data.get("details"),
        fbtrace_id=error.get("fbtrace_id"),
        http_status=http_status,
    )


def error_from_webhook(error: Dict[str, Any]) -> GraphApiError:
    """The typed error of a webhook `errors[]` item (`{code, title, message, error_data{details}}`)."""
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    return error_from_code(
        _int(error.get("code")), str(error.get("message") or error.get("title") or ""), details=error_data.get("details")
    )
