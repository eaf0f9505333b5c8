"""Graph API errors as typed exceptions, classified by Cloud API `code`.

Source of the code table: docs/whatsapp_contract.md §7 (Meta's "Error codes" page,
pywa's `errors.py`). One classifier serves the three places errors arrive: a failed send
(`error_from_response`), `statuses[].errors[]` and `value.errors[]` of a webhook
(`error_from_webhook`). Decide on the class (`except ThrottlingError`) or on `transient`;
`reason` is the short snake_case word stored on the delivery record attendants see.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Tuple, Type, Union


class GraphApiError(Exception):
    """A Graph API failure with Meta's fields (never the access token)."""

    transient: bool = False
    default_reason: str = "request_failed"

    def __init__(
        self,
        message: str = "",
        code: Optional[int] = None,
        subcode: Optional[int] = None,
        details: Optional[str] = None,
        fbtrace_id: Optional[str] = None,
        http_status: Optional[int] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(f"({code}) {message}" if code is not None else message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.reason: str = reason or self.default_reason

    def log_fields(self) -> Dict[str, Any]:
        """The fields worth logging (Meta support asks for `fbtrace_id`)."""
        return {
            "error_class": type(self).__name__,
            "code": self.code,
            "subcode": self.subcode,
            "http_status": self.http_status,
            "reason": self.reason,
            "details": self.details,
            "fbtrace_id": self.fbtrace_id,
        }


class AuthorizationError(GraphApiError):
    """Token expired or invalid, or a permission missing: stop, alert, keep the queue."""

    default_reason = "auth_failed"


class ThrottlingError(GraphApiError):
    """A rate limit: retry later, slower."""

    transient = True
    default_reason = "rate_limited"


class ThroughputLimitError(ThrottlingError):
    """130429: the business number's message throughput is reached: slow the whole number down."""


class PairRateLimitError(ThrottlingError):
    """131056: too many messages to one customer in a short time: slow only that customer's queue down."""

    default_reason = "pair_rate_limited"


class RecipientError(GraphApiError):
    """The customer cannot get this message (undeliverable, not on WhatsApp, blocked us...)."""

    default_reason = "recipient_unavailable"


class ReEngagementError(RecipientError):
    """131047: more than 24 h since the customer last wrote; only templates may be sent."""

    default_reason = "window_closed"


class RequestError(GraphApiError):
    """Our request is wrong (parameter, limits, template): never resend it unchanged."""

    default_reason = "invalid_request"


class IntegrityError(GraphApiError):
    """The number or account is blocked for policy reasons: pause sending and alert an operator."""

    default_reason = "account_restricted"


class ServerError(GraphApiError):
    """Something went wrong at Meta: retry with backoff."""

    transient = True
    default_reason = "server_error"


class TransportError(GraphApiError):
    """No usable answer: timeout, connection error, or a body that is not JSON (outcome unknown)."""

    transient = True
    default_reason = "network_error"


# code (or range of codes) -> (class, reason); docs/whatsapp_contract.md §7. Exact codes win over ranges.
_CODE_TABLE: Dict[Union[int, range], Tuple[Type[GraphApiError], str]] = {
    0: (AuthorizationError, "auth_failed"),
    3: (AuthorizationError, "permission_denied"),
    10: (AuthorizationError, "permission_denied"),
    190: (AuthorizationError, "access_token_invalid"),
    range(200, 300): (AuthorizationError, "permission_denied"),
    4: (ThrottlingError, "rate_limited"),
    80007: (ThrottlingError, "rate_limited"),
    130429: (ThroughputLimitError, "rate_limited"),
    131048: (ThrottlingError, "spam_rate_limited"),
    131056: (PairRateLimitError, "pair_rate_limited"),
    131021: (RecipientError, "recipient_is_sender"),
    131026: (RecipientError, "undeliverable"),
    131049: (RecipientError, "marketing_not_delivered"),
    130472: (RecipientError, "recipient_in_experiment"),
    131062: (RecipientError, "bsuid_not_supported"),
    131047: (ReEngagementError, "window_closed"),
    100: (RequestError, "invalid_parameter"),
    131008: (RequestError, "missing_parameter"),
    131009: (RequestError, "invalid_parameter_value"),
    131051: (RequestError, "unsupported_message_type"),
    131053: (RequestError, "media_upload_failed"),
    range(132000, 133000): (RequestError, "template_error"),
    132000: (RequestError, "template_parameters_mismatch"),
    132001: (RequestError, "template_not_found"),
    368: (IntegrityError, "policy_blocked"),
    131031: (IntegrityError, "account_locked"),
    1: (ServerError, "server_error"),
    2: (ServerError, "service_unavailable"),
    131000: (ServerError, "server_error"),
    131016: (ServerError, "service_unavailable"),
    range(133000, 134000): (ServerError, "server_error"),
    133010: (RequestError, "number_not_registered"),
}


def _lookup(code: int) -> Optional[Tuple[Type[GraphApiError], str]]:
    if code in _CODE_TABLE:
        return _CODE_TABLE[code]
    return next((entry for key, entry in _CODE_TABLE.items() if isinstance(key, range) and code in key), None)


def _class_for_status(http_status: Optional[int]) -> Type[GraphApiError]:
    """The class for a code we do not know (or no code): decided by the HTTP status."""
    if http_status in (401, 403):
        return AuthorizationError
    if http_status == 429:
        return ThrottlingError
    if http_status is not None and http_status >= 500:
        return ServerError
    return RequestError


def error_from_code(code: Optional[int], message: str = "", **fields: Any) -> GraphApiError:
    """The typed error for a Cloud API code; unknown codes are classified by `http_status`."""
    entry = _lookup(code) if code is not None else None
    if entry is None:
        return _class_for_status(fields.get("http_status"))(message, code=code, **fields)
    cls, reason = entry
    fields.setdefault("reason", reason)
    return cls(message, code=code, **fields)


def _int(value: Any) -> Optional[int]:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> Optional[str]:
    return str(value) if value is not None else None


def _details(error: Mapping[str, Any]) -> Optional[str]:
    error_data = error.get("error_data")
    return _text(error_data.get("details")) if isinstance(error_data, dict) else None


def error_from_response(http_status: int, body: Union[bytes, str, Mapping[str, Any], None]) -> GraphApiError:
    """The typed error of a non-2xx Graph answer; a body that is not a Graph error goes by HTTP status."""
    data: Any = body
    if isinstance(body, (bytes, str)):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
    error = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(error, Mapping):
        cls = _class_for_status(http_status)
        return cls(f"HTTP {http_status} without a Graph error body", http_status=http_status)
    return error_from_code(
        _int(error.get("code")),
        str(error.get("message") or ""),
        subcode=_int(error.get("error_subcode")),
        details=_details(error),
        fbtrace_id=_text(error.get("fbtrace_id")),
        http_status=http_status,
    )


def error_from_webhook(error: Mapping[str, Any]) -> GraphApiError:
    """The typed error of a webhook `errors[]` item (`{code, title, message, error_data{details}}`)."""
    message = str(error.get("message") or error.get("title") or "")
    return error_from_code(_int(error.get("code")), message, details=_details(error))
