"""A fake Firebase Cloud Messaging HTTP v1 API with its OAuth2 token endpoint.

pyfcm and google-auth talk to it exactly as to Google: the service account's JWT assertion is
verified with the public key of a service account this fake wrote (`write_service_account`),
and `messages:send` accepts only the bearer tokens it issued. Errors are scripted under the
keys `"token"` and `"send"` with the bodies real FCM answers (see the factories below);
`token_delay` makes the token endpoint answer slowly, so concurrent first sends all start
before any access token exists; `expire_access_tokens()` makes every token issued so far
answer ACCESS_TOKEN_EXPIRED, as Google does an hour after issuing it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.server import LoopbackServer, RecordedRequest, ScriptedAnswer

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
# google-auth signs every assertion for Google's token endpoint, whatever `token_uri` says.
ASSERTION_AUDIENCE = "https://oauth2.googleapis.com/token"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
UNAUTHENTICATED_MESSAGE = "Request had invalid authentication credentials."


def fcm_error(
    http_status: int,
    status: str,
    message: str,
    error_code: Optional[str] = None,
    retry_after: Optional[int] = None,
    more_details: Sequence[Dict[str, Any]] = (),
) -> ScriptedAnswer:
    """An FCM v1 error answer: google.rpc.Status with an FcmError detail when `error_code` is given."""
    details: List[Dict[str, Any]] = [{"@type": FCM_ERROR_TYPE, "errorCode": error_code}] if error_code else []
    details.extend(more_details)
    error: Dict[str, Any] = {"code": http_status, "message": message, "status": status}
    if details:
        error["details"] = details
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return ScriptedAnswer(status=http_status, body={"error": error}, headers=headers)


def unregistered() -> ScriptedAnswer:
    """404 UNREGISTERED: the app was uninstalled or the token expired."""
    return fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")


def invalid_registration_token() -> ScriptedAnswer:
    """400 INVALID_ARGUMENT blaming `message.token`: the token is not an FCM token at all."""
    description = "The registration token is not a valid FCM registration token"
    violation = {"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": "message.token", "description": description}]}
    return fcm_error(400, "INVALID_ARGUMENT", description, "INVALID_ARGUMENT", more_details=[violation])


def invalid_argument(message: str = "Request contains an invalid argument.") -> ScriptedAnswer:
    """400 INVALID_ARGUMENT about the message itself, not the token."""
    return fcm_error(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT")


def quota_exceeded(retry_after: Optional[int] = None) -> ScriptedAnswer:
    """429 QUOTA_EXCEEDED (RESOURCE_EXHAUSTED), optionally with `Retry-After` seconds."""
    message = "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute'."
    return fcm_error(429, "RESOURCE_EXHAUSTED", message, "QUOTA_EXCEEDED", retry_after)


def internal() -> ScriptedAnswer:
    """500 INTERNAL: an unknown error on Google's side."""
    return fcm_error(500, "INTERNAL", "Internal error encountered.", "INTERNAL")


def unavailable() -> ScriptedAnswer:
    """503 UNAVAILABLE: FCM is overloaded."""
    return fcm_error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE")


def access_token_expired() -> ScriptedAnswer:
    """401 UNAUTHENTICATED with the ACCESS_TOKEN_EXPIRED reason pyfcm looks for."""
    reason = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_EXPIRED"}
    return fcm_error(401, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE, more_details=[reason])


class FakeFcm(LoopbackServer):
    """FCM HTTP v1 (`POST /v1/projects/{project}/messages:send`) and OAuth2 (`POST /token`) on loopback."""

    def __init__(self, project_id: str = "supportdesk-test", token_delay: float = 0.0) -> None:
        super().__init__()
        self.project_id = project_id
        self.token_delay = token_delay  # seconds every token request waits before its answer
        self.messages: List[Dict[str, Any]] = []
        self._service_accounts: Dict[str, Tuple[str, Any]] = {}
        self._access_tokens: set = set()
        self._expired_tokens: set = set()
        self._message_numbers = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        """OAuth2 token endpoint and the FCM send call."""
        app.router.add_post("/token", self.tracked(self._token))
        app.router.add_post("/v1/projects/{project}/messages:send", self.tracked(self._send))

    @property
    def token_uri(self) -> str:
        """The OAuth2 token endpoint written into service-account files."""
        return f"{self.url}/token"

    def send_requests(self) -> List[RecordedRequest]:
        """Requests received by `messages:send`, in order."""
        return [r for r in self.requests if r.path.endswith("/messages:send")]

    def token_requests(self) -> List[RecordedRequest]:
        """Requests received by the token endpoint, in order."""
        return [r for r in self.requests if r.path == "/token"]

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused from now on with 401 ACCESS_TOKEN_EXPIRED."""
        with self._lock:
            self._expired_tokens |= self._access_tokens
            self._access_tokens.clear()

    def write_service_account(self, directory: Path, include_project_id: bool = True) -> Path:
        """Write a service-account JSON with a fresh RSA key whose `token_uri` is this fake."""
        if not self.port:
            raise RuntimeError("start the fake before writing a service account (token_uri needs its port)")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        client_email = f"firebase-adminsdk-test@{self.project_id}.iam.gserviceaccount.com"
        self._service_accounts[key_id] = (client_email, key.public_key())
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": key_id,
            "private_key": private_pem,
            "client_email": client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "universe_domain": "googleapis.com",
        }
        if not include_project_id:
            del info["project_id"]
        path = Path(directory) / f"service-account-{key_id[:8]}.json"
        path.write_text(json.dumps(info, indent=2), encoding="utf-8")
        return path

    def _verified_claims(self, assertion: str) -> Optional[Dict[str, Any]]:
        """The assertion's claims if signed by a known service-account key, for Google's token endpoint."""
        try:
            client_email, public_key = self._service_accounts[jwt.get_unverified_header(assertion).get("kid")]
            return jwt.decode(
                assertion, public_key, algorithms=["RS256"], audience=ASSERTION_AUDIENCE, issuer=client_email
            )
        except (jwt.PyJWTError, KeyError):
            return None

    async def _token(self, request: web.Request) -> web.Response:
        await self.record(request)
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        scripted = self.next_scripted("token")
        if scripted is not None:
            return await self.answer(scripted)
        form = await request.post()
        if form.get("grant_type") != JWT_BEARER_GRANT:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        claims = self._verified_claims(str(form.get("assertion", "")))
        if claims is None:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        if FCM_SCOPE not in str(claims.get("scope", "")).split():
            return _oauth_error("invalid_scope", "The assertion does not ask for the FCM scope.")
        access_token = f"ya29.fake-{secrets.token_urlsafe(24)}"
        self._access_tokens.add(access_token)
        return web.json_response({"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"})

    async def _send(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        authorization = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if authorization in self._expired_tokens:
            return await self.answer(access_token_expired())
        if authorization not in self._access_tokens:
            return await self.answer(fcm_error(401, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE))
        project = request.match_info["project"]
        if project != self.project_id:
            denied = (
                "Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            )
            return await self.answer(fcm_error(403, "PERMISSION_DENIED", denied))
        scripted = self.next_scripted("send")
        if scripted is not None:
            return await self.answer(scripted)
        try:
            message = recorded.json()["message"]
        except (ValueError, KeyError, TypeError):
            return await self.answer(invalid_argument("Invalid JSON payload received."))
        problem = _message_problem(message)
        if problem:
            return await self.answer(invalid_argument(problem))
        self.messages.append(message)
        return web.json_response({"name": f"projects/{project}/messages/0:{next(self._message_numbers)}%fakefcm"})


def _oauth_error(error: str, description: str) -> web.Response:
    """An OAuth2 error answer as Google's token endpoint gives it (RFC 6749 section 5.2)."""
    return web.json_response({"error": error, "error_description": description}, status=400)


def _message_problem(message: Any) -> Optional[str]:
    """What real FCM would reject in a `message` object (target count, non-string data)."""
    if not isinstance(message, dict):
        return "Invalid value at 'message'"
    if sum(1 for target in ("token", "topic", "condition") if message.get(target)) != 1:
        return "Exactly one of message.token, message.topic or message.condition must be set."
    for index, value in enumerate((message.get("data") or {}).values()):
        if not isinstance(value, str):
            return f"Invalid value at 'message.data[{index}].value' (TYPE_STRING), {json.dumps(value)}"
    return None
