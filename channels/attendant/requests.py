"""What every attendant route reads from a request, and the one way a route refuses it."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional

from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.attendant.tokens import Attendant, TokenRejected, verify_token
from supportdesk.platform.http_errors import MalformedJson, json_object
from supportdesk.platform.settings import get_settings

MAX_BODY_BYTES = 64 * 1024
# Event ids are BIGINTs; 18 digits are more than any stream will reach, and SQLite cannot even
# compare a number past 2^63 (it raised OverflowError in the middle of an open stream).
EVENT_ID_MAX_DIGITS = 18

Handler = Callable[..., Awaitable[HTTPResponse]]


class ApiError(Exception):
    """An error answer: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def json_body(request: Request) -> Dict[str, Any]:
    """The request's JSON object, or a 400/413 ApiError."""
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", "The body is larger than 64 KiB.")
    try:
        return json_object(body)
    except MalformedJson as malformed:
        raise ApiError(400, "malformed_json", str(malformed)) from None


def required_text(request: Request, limit: int) -> str:
    """The body's `text`: a non-empty string of at most `limit` characters, or a 400 ApiError."""
    text = json_body(request).get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "empty_text", "text must be a non-empty string.")
    if len(text) > limit:
        raise ApiError(400, "text_too_long", f"text must be at most {limit} characters.")
    return text


def caller(request: Request) -> Attendant:
    """The attendant of the request's token, or TokenRejected (a header that is not ASCII included)."""
    settings = get_settings()
    authorization = request.headers.get("Authorization")
    if authorization is not None and not authorization.isascii():  # Sanic keeps undecodable bytes as surrogates
        raise TokenRejected("Authorization must be 'Bearer <token>' in ASCII")
    return verify_token(settings.attendant_jwt_secret, authorization, settings.attendant_token_max_hours * 3600)


def query(request: Request, name: str) -> Optional[str]:
    """A query parameter as sent: None when absent, "" when blank (Sanic's `args` drops blank ones)."""
    return request.get_args(keep_blank_values=True).get(name)


def one_of(request: Request, name: str, allowed: tuple) -> Optional[str]:
    """An optional query parameter that must be one of `allowed` (400 `invalid_<name>` otherwise)."""
    value = query(request, name)
    if value is not None and value not in allowed:
        raise ApiError(400, f"invalid_{name}", f"{name} must be one of {', '.join(allowed)}.")
    return value


def last_event_id(request: Request) -> Optional[int]:
    """The event to resume after: the `Last-Event-ID` header, else `last_event_id=`; each must be an id if sent."""
    given = [raw for raw in (request.headers.get("Last-Event-ID"), query(request, "last_event_id")) if raw is not None]
    if any(not (raw.isascii() and raw.isdigit() and len(raw) <= EVENT_ID_MAX_DIGITS) for raw in given):
        raise ApiError(400, "invalid_last_event_id", "Last-Event-ID must be an event id from this stream.")
    return int(given[0]) if given else None
