"""The action server's gate: every call but `/health` must carry the secret Rasa sends.

Rasa calls the action server with the headers of `action_endpoint` in endpoints.yml, which
sends `Authorization: Bearer ${ACTION_SERVER_TOKEN}` (a header rather than Rasa's `token:`
query parameter, which would put the secret in every logged URL). Without the header the
call is refused with 401, with a wrong token 403, and with no token configured on the action
server every call is refused: a missing secret never opens the door. The answer never echoes
the request.
"""

from __future__ import annotations

import hmac
import logging
from typing import Callable, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.platform.http_errors import error_response
from supportdesk.platform.settings import get_settings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})  # liveness probes carry no secret and learn nothing
BEARER_PREFIX = "Bearer "
_GUARDED = "supportdesk_action_token_required"


class CallRefused(Exception):
    """A call without the right token: the HTTP status and error code to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def check_token(expected: Optional[str], authorization: Optional[str]) -> None:
    """Return when `authorization` is `Bearer <expected>`; raise CallRefused otherwise."""
    if not expected:
        logger.error("action_server.token_not_configured")
        raise CallRefused(401, "unauthorized", "The action server has no ACTION_SERVER_TOKEN configured.")
    if not authorization or not authorization.startswith(BEARER_PREFIX):
        logger.warning("action_server.call_refused", extra={"reason": "missing_token"})
        raise CallRefused(401, "unauthorized", "Missing bearer token.")
    given = authorization[len(BEARER_PREFIX) :].strip().encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given, expected.encode("utf-8")):
        logger.warning("action_server.call_refused", extra={"reason": "wrong_token"})
        raise CallRefused(403, "forbidden", "Wrong bearer token.")


def require_action_token(app: Sanic, expected: Callable[[], Optional[str]] = lambda: get_settings().action_server_token) -> None:
    """Refuse every call to `app` (rasa-sdk's server) that lacks the token; idempotent."""
    if getattr(app.ctx, _GUARDED, False):
        return
    setattr(app.ctx, _GUARDED, True)

    async def token_required(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        try:
            check_token(expected(), request.headers.get("Authorization"))
        except CallRefused as refused:
            return error_response(refused.status, refused.code, str(refused))
        return None

    app.register_middleware(token_required, "request")
