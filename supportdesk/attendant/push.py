"""Push notifications to attendants' devices: FCM HTTP v1 through pyfcm, or the log without FCM.

pyfcm 2.1.1 is synchronous (requests), so each call runs in `asyncio.to_thread`. Outcomes are
decided here from the HTTP status and FCM's `errorCode`: pyfcm's `parse_response` folds 429 and
every 5xx into one `FCMServerError` and drops the error body, which says whether a token is dead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import random
import threading
import types
from pathlib import Path
from typing import Awaitable, Callable, Dict, Mapping, Optional, Protocol, Tuple

import google.auth.exceptions
import google.auth.transport.requests
import requests
from pyfcm import FCMNotification
from pyfcm.errors import FCMError
from requests.adapters import HTTPAdapter

from supportdesk.platform.redaction import mask_phone, mask_phones_in_text
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.settings import DEFAULT_FCM_API_URL, Settings, SettingsError

logger = logging.getLogger(__name__)

PUSH_TYPES = ("handoff", "scheduling", "message", "reminder")
# Ours (always set) and FCM's reserved data keys ("from", "message_type", "google.*", "gcm.*").
_RESERVED_DATA_KEYS = ("type", "conversation_id", "from", "message_type")
_RESERVED_DATA_PREFIXES = ("google.", "gcm.")
# A notification is read on a lock screen; longer texts only risk FCM's 4 KB message limit.
TITLE_MAX_CHARS = 100
BODY_MAX_CHARS = 240
# First retry after about a second; the cap keeps one push from holding its task for minutes.
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=3, base_seconds=BACKOFF_BASE_SECONDS, cap_seconds=BACKOFF_CAP_SECONDS)
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


def _shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclasses.dataclass(frozen=True)
class PushMessage:
    """One notification for attendants; title and body are masked for phone numbers when created."""

    type: str
    conversation_id: str
    title: str
    body: str
    extra_data: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in PUSH_TYPES:
            raise ValueError(f"push type must be one of {PUSH_TYPES}, got {self.type!r}")
        for key, value in self.extra_data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"extra_data[{key!r}] must be a string: FCM data carries strings only")
            if key in _RESERVED_DATA_KEYS or key.startswith(_RESERVED_DATA_PREFIXES):
                raise ValueError(f"extra_data key {key!r} is reserved")
        object.__setattr__(self, "title", _shorten(mask_phones_in_text(self.title), TITLE_MAX_CHARS))
        object.__setattr__(self, "body", _shorten(mask_phones_in_text(self.body), BODY_MAX_CHARS))
        object.__setattr__(self, "extra_data", types.MappingProxyType(dict(self.extra_data)))

    @property
    def data(self) -> Dict[str, str]:
        """The FCM `data` payload: string values, always with `type` and `conversation_id`."""
        return {**self.extra_data, "type": self.type, "conversation_id": self.conversation_id}


@dataclasses.dataclass(frozen=True)
class PushResult:
    """What became of one push: `sent`, `unregistered` (delete the device), `failed` or `logged`."""

    token: str
    outcome: str
    message_id: Optional[str] = None
    error: Optional[str] = None


class PushSender(Protocol):
    """Anything that delivers a push to one device token."""

    async def send(self, token: str, message: PushMessage) -> PushResult:
        """Deliver `message` to the device `token`; never raises for delivery problems."""
        ...


def _log_fields(token: str, message: PushMessage) -> Dict[str, str]:
    """Log fields for a push: no token (its last 6 chars only) and no full phone number."""
    return {"push_type": message.type, "conversation": mask_phone(message.conversation_id), "device": token[-6:]}


class LoggingPushSender:
    """Writes pushes to the log when FCM is not configured, so the service runs without credentials."""

    async def send(self, token: str, message: PushMessage) -> PushResult:
        """Log the push as `push.logged` and report it `logged`."""
        fields = {**_log_fields(token, message), "push_title": message.title, "push_body": message.body}
        logger.info("push.logged", extra=fields)
        return PushResult(token=token, outcome="logged")


class _RoutedFcmClient(FCMNotification):
    """pyfcm's client aimed at `api_url`, leaving every retry to `FcmPushSender`, with timeouts.

    pyfcm 2.1.1 (`baseapi.py`) hard-codes `https://fcm.googleapis.com/v1/projects` and prefers the
    credentials' project to the explicit one; mounts a urllib3 `Retry` (up to 10 tries on 502/503)
    on its session; in `send_request` sleeps any `Retry-After` and recurses without limit, also on
    401 ACCESS_TOKEN_EXPIRED; and fetches OAuth tokens with google-auth's default 120 s timeout.
    Here `fcm_end_point` is built from `api_url` and the resolved project, the session adapter
    does no retries (pyfcm's own `adapter` argument), `send_request` posts once and refreshes an
    expired token at most once, and the token request gets our timeout. google-auth still
    retries a 5xx/429 from the token endpoint itself (3 tries), so we do not retry auth errors.

    The token is shared by every worker thread and fetched under one lock. pyfcm builds a session
    per thread and each asks `_get_access_token`, whose `_initialize_credentials` is an unlocked
    check-then-set: two first sends both saw no credentials, the second replaced the first's
    object while it was still being refreshed, and the first then read the new object's token,
    still None ("Bearer " + None, a TypeError), or opened the file path pyfcm had already reset.
    """

    def __init__(self, service_account_file: str, project_id: str, api_url: str, timeout_seconds: float) -> None:
        super().__init__(
            service_account_file=service_account_file, project_id=project_id, adapter=HTTPAdapter(max_retries=0)
        )
        self._send_url = f"{api_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self._timeout_seconds = timeout_seconds
        self._token_lock = threading.Lock()

    @property
    def fcm_end_point(self) -> str:
        """`{api_url}/v1/projects/{project}/messages:send`."""
        return self._send_url

    def send_request(self, payload: Optional[bytes] = None, timeout: Optional[float] = None) -> requests.Response:
        """POST once; on 401 ACCESS_TOKEN_EXPIRED fetch a new token and POST once more."""
        response = self.requests_session.post(self.fcm_end_point, data=payload, timeout=timeout)
        if self._is_access_token_expired(response):
            self._discard_token(response.request.headers.get("Authorization", ""))
            self.thread_local.token_expiry = 0
            response = self.requests_session.post(self.fcm_end_point, data=payload, timeout=timeout)
        return response

    def _discard_token(self, refused_authorization: str) -> None:
        """Forget the token FCM called expired, once, however many threads it refused."""
        with self._token_lock:
            if self.credentials is not None and refused_authorization == f"Bearer {self.credentials.token}":
                self.credentials.token = None

    def _get_access_token(self) -> str:
        """The shared OAuth token: fetched by one thread at a time (with our timeout), reused while valid."""
        with self._token_lock:
            if self.credentials is None:
                self._initialize_credentials()
            if not self.credentials.valid:
                transport = google.auth.transport.requests.Request()
                self.credentials.refresh(functools.partial(transport, timeout=self._timeout_seconds))
            token = self.credentials.token
        if not token:
            raise google.auth.exceptions.RefreshError("the token endpoint answered without an access token")
        return token


@dataclasses.dataclass(frozen=True)
class _Attempt:
    """One try's result; `transient` failures may be retried, after at least `retry_after` seconds."""

    result: PushResult
    transient: bool = False
    retry_after: float = 0.0


def _fcm_error(response: requests.Response) -> Tuple[str, bool]:
    """The FCM `errorCode` (or the RPC status) of an error answer, and whether it blames the token."""
    try:
        error = response.json().get("error") or {}
        details = [detail for detail in error.get("details") or [] if isinstance(detail, dict)]
    except (ValueError, AttributeError):
        return "", False
    codes = [detail.get("errorCode") for detail in details if detail.get("@type") == _FCM_ERROR_TYPE]
    violations = [violation for detail in details for violation in detail.get("fieldViolations") or []]
    blames_token = any(isinstance(v, dict) and v.get("field") == "message.token" for v in violations) or (
        "registration token" in str(error.get("message", "")).lower()
    )
    return str(codes[0] if codes and codes[0] else error.get("status") or ""), blames_token


def _retry_after_seconds(response: requests.Response) -> float:
    """The `Retry-After` header in seconds (0 when absent or given as a date)."""
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else 0.0


def _classify(client: _RoutedFcmClient, token: str, response: requests.Response) -> _Attempt:
    """Turn FCM's answer into an outcome: sent, unregistered, or a (transient) failure."""
    if response.status_code == 200:
        try:
            return _Attempt(PushResult(token, "sent", message_id=client.parse_response(response)["name"]))
        except (FCMError, ValueError, KeyError, TypeError):
            return _Attempt(PushResult(token, "failed", error="HTTP 200 without a message name"), transient=True)
    error_code, blames_token = _fcm_error(response)
    summary = f"HTTP {response.status_code} {error_code}".strip()
    if error_code == "UNREGISTERED" or response.status_code == 404 or (response.status_code == 400 and blames_token):
        return _Attempt(PushResult(token, "unregistered", error=summary))
    if response.status_code in _TRANSIENT_STATUSES:
        return _Attempt(PushResult(token, "failed", error=summary), True, _retry_after_seconds(response))
    return _Attempt(PushResult(token, "failed", error=summary))


class FcmPushSender:
    """Sends pushes through FCM HTTP v1 with pyfcm; 429 and 5xx are retried by the project's RetryPolicy."""

    def __init__(
        self,
        service_account_file: str,
        project_id: str,
        api_url: str = DEFAULT_FCM_API_URL,
        timeout_seconds: float = 10.0,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.service_account_file = service_account_file
        self.project_id = project_id
        self.api_url = api_url
        self._timeout_seconds = timeout_seconds
        self._policy = retry_policy
        self._sleep = sleep
        self._rng = rng
        self._client: Optional[_RoutedFcmClient] = None
        self._client_lock = threading.Lock()

    def _fcm(self) -> _RoutedFcmClient:
        """The pyfcm client, created on first use (it reads the service-account file later still)."""
        with self._client_lock:
            if self._client is None:
                self._client = _RoutedFcmClient(
                    self.service_account_file, self.project_id, self.api_url, self._timeout_seconds
                )
            return self._client

    async def send(self, token: str, message: PushMessage) -> PushResult:
        """Deliver `message` to `token`, retrying transient failures up to the policy's attempts."""
        attempt = 0
        while True:
            attempt += 1
            tried = await asyncio.to_thread(self._send_once, token, message)
            if not tried.transient or not self._policy.may_retry(attempt):
                break
            delay = self._policy.delay(attempt, self._rng, retry_after=tried.retry_after)
            logger.info(
                "push.retrying",
                extra={**_log_fields(token, message), "attempt": attempt, "delay": delay, "error": tried.result.error},
            )
            await self._sleep(delay)
        self._log_result(tried.result, message, attempt)
        return tried.result

    def _send_once(self, token: str, message: PushMessage) -> _Attempt:
        """One POST to FCM, run in a worker thread (pyfcm and google-auth block)."""
        try:
            client = self._fcm()
            payload = client.parse_payload(
                fcm_token=token, notification_title=message.title, notification_body=message.body,
                data_payload=message.data,
            )
            response = client.send_request(payload, timeout=self._timeout_seconds)
        except requests.RequestException as error:
            return _Attempt(PushResult(token, "failed", error=f"network: {type(error).__name__}"), transient=True)
        except google.auth.exceptions.TransportError as error:
            return _Attempt(PushResult(token, "failed", error=f"auth: {type(error).__name__}"), transient=True)
        except google.auth.exceptions.GoogleAuthError as error:
            return _Attempt(PushResult(token, "failed", error=f"auth: {type(error).__name__}"))
        except (FCMError, OSError, ValueError) as error:
            return _Attempt(PushResult(token, "failed", error=f"credentials: {type(error).__name__}"))
        return _classify(client, token, response)

    @staticmethod
    def _log_result(result: PushResult, message: PushMessage, attempts: int) -> None:
        fields = {**_log_fields(result.token, message), "attempts": attempts, "error": result.error}
        if result.outcome == "sent":
            logger.info("push.sent", extra={**fields, "message_id": result.message_id})
        elif result.outcome == "unregistered":
            logger.info("push.unregistered", extra=fields)
        else:
            logger.warning("push.failed", extra=fields)


def _project_id_in_file(service_account_file: str) -> str:
    """The `project_id` named by a service-account JSON file."""
    try:
        info = json.loads(Path(service_account_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SettingsError(f"FCM_SERVICE_ACCOUNT_FILE cannot be read as JSON ({type(error).__name__})") from None
    project_id = info.get("project_id") if isinstance(info, dict) else None
    if not project_id:
        raise SettingsError("FCM_PROJECT_ID is required: the service-account file names no project_id")
    return str(project_id)


def build_push_sender(settings: Settings) -> PushSender:
    """FCM when a service-account file is configured, else the log; `FCM_PROJECT_ID` wins over the file's."""
    if not settings.fcm_service_account_file:
        logger.info("push.sender.selected", extra={"sender": "log"})
        return LoggingPushSender()
    project_id = settings.fcm_project_id or _project_id_in_file(settings.fcm_service_account_file)
    logger.info("push.sender.selected", extra={"sender": "fcm", "project_id": project_id})
    return FcmPushSender(
        service_account_file=settings.fcm_service_account_file,
        project_id=project_id,
        api_url=settings.fcm_api_url,
        timeout_seconds=settings.fcm_timeout_seconds,
        retry_policy=RetryPolicy(settings.fcm_max_attempts, BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS),
    )
