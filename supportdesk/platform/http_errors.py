"""The project's one error body for HTTP answers: `{"error": code, "message": text}` (CONTRACT).

Our channels' blueprints are `ChannelBlueprint`s: registering one on an app makes the app answer
every error under the blueprint's URL prefix with that body, the router's own 404 and 405 (with
`Allow`) included, and puts the log redaction on every handler then configured. Paths outside our
prefixes (Rasa's own routes) keep Sanic's answers.
"""

from __future__ import annotations

import functools
import http
import json
import logging
from typing import Any, Dict, List, Mapping, Optional

from sanic import Blueprint, Sanic, response
from sanic.constants import HTTP_METHODS
from sanic.exceptions import NotFound, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.platform.structured_logging import install_log_redaction

logger = logging.getLogger(__name__)

# The codes our channels use for the statuses Sanic itself raises; others are their HTTP phrase in snake_case.
_CODES = {413: "payload_too_large"}


class MalformedJson(ValueError):
    """A request body that is not a JSON object we can store and send on."""


def error_response(
    status: int, code: str, message: str, headers: Optional[Mapping[str, str]] = None
) -> HTTPResponse:
    """A JSON error answer: a machine-readable `code` and a sentence for people, with optional headers."""
    return response.json({"error": code, "message": message}, status=status, headers=dict(headers or {}))


def json_object(body: bytes) -> Dict[str, Any]:
    """The body as a JSON object ({} when empty), or MalformedJson.

    Deep nesting (RecursionError), invalid UTF-8 and lone surrogates (`"\\ud800"`, which no database
    or WhatsApp accepts) are malformed like any syntax error.
    """
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # refuses lone surrogates anywhere
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        raise MalformedJson("The body is not valid JSON in UTF-8.") from None
    if not isinstance(data, dict):
        raise MalformedJson("The body must be a JSON object.")
    return data


class ChannelBlueprint(Blueprint):
    """A channel's blueprint: errors under its URL prefix get the project's body, logs get redacted."""

    def __init__(self, name: str, headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(name)
        self.ctx.error_headers = dict(headers or {})

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        """Sanic's registration, then the app-wide error handler for this prefix and the log redaction."""
        super().register(app, options)
        serve_json_errors(app, options.get("url_prefix") or self.url_prefix or "/", self.ctx.error_headers)
        install_log_redaction()  # the app's (and Rasa's) log handlers exist by now


def serve_json_errors(app: Sanic, prefix: str, headers: Optional[Mapping[str, str]] = None, replace: bool = False) -> None:
    """Answer every error under `prefix` on `app` with the project's body (idempotent; `replace` re-takes the handlers)."""
    prefixes: Dict[str, Dict[str, str]] = getattr(app.ctx, "json_error_prefixes", None)
    if prefixes is None:
        prefixes = {}
        app.ctx.json_error_prefixes = prefixes
        replace = True
    if replace:
        handler = functools.partial(_answer_error, app, prefixes)
        functools.update_wrapper(handler, _answer_error)
        for exception in (SanicException, Exception):
            app.error_handler.add(exception, handler)
    prefixes["/" + prefix.strip("/")] = dict(headers or {})


def serve_json_errors_at_start(app: Sanic, prefix: str = "/") -> None:
    """`serve_json_errors` and the log redaction once `app` starts, overriding error handlers added after this call.

    rasa-sdk registers its own handler after importing the actions, and it answered a failing action
    with the whole request (tracker, number, the customer's words), which Rasa then logged.
    """

    async def take_over_errors(started: Sanic, _: Any) -> None:
        serve_json_errors(started, prefix, replace=True)
        install_log_redaction()

    app.register_listener(take_over_errors, "before_server_start")


def _answer_error(app: Sanic, prefixes: Mapping[str, Mapping[str, str]], request: Optional[Request], exception: Exception) -> HTTPResponse:
    headers = _headers_for(_path_of(request), prefixes)
    if headers is None:
        return app.error_handler.default(request, exception)
    status = getattr(exception, "status_code", None) if isinstance(exception, SanicException) else None
    if status is None or status >= 500:
        logger.error("http.request.failed", extra={"path": _path_of(request), "error": type(exception).__name__}, exc_info=exception)
        return error_response(500, "internal_error", _phrase(500), headers)
    headers = {**headers, **(getattr(exception, "headers", None) or {})}  # 405 carries Allow
    if isinstance(exception, NotFound) and request is not None and request.route is None:
        allowed = _allowed_methods(app, request)
        if allowed:
            status, headers = 405, {**headers, "Allow": ", ".join(allowed)}
    code = _CODES.get(status) or _phrase(status).lower().replace(" ", "_").replace("-", "_")
    return error_response(status, code, _phrase(status), headers)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _allowed_methods(app: Sanic, request: Request) -> List[str]:
    """The methods the path has routes for: Sanic's router says 404, not 405, when each method has its own route."""
    allowed = []
    for method in HTTP_METHODS:
        try:
            app.router.get(request.path, method, request.headers.getone("host", None))
        except SanicException:
            continue
        allowed.append(method)
    return allowed


def _path_of(request: Optional[Request]) -> Optional[str]:
    try:
        return request.path if request is not None else None
    except UnicodeDecodeError:
        return None


def _headers_for(path: Optional[str], prefixes: Mapping[str, Mapping[str, str]]) -> Optional[Mapping[str, str]]:
    if path is None:
        return None
    for prefix, headers in prefixes.items():
        if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
            return headers
    return None
