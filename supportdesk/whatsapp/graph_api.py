"""The one WhatsApp Cloud API (Graph) client: send message objects, mark read (with typing).

No retries here: the outbox retries with RetryPolicy, keeping each customer's order. One HTTP
request per call, each with a timeout. Limits Meta would refuse (docs/whatsapp_contract.md §6) are
checked before any request and raise MessageLimitError, so a bad message is never sent or resent.
A timeout is a TransportError whose outcome is unknown: the message may have gone out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from typing import Any, Dict, List, Optional

import aiohttp

from supportdesk.platform.redaction import mask_phone
from supportdesk.whatsapp.graph_errors import (
    AuthorizationError,
    GraphApiError,
    RequestError,
    TransportError,
    error_from_response,
)
from supportdesk.whatsapp.limits import (
    BUTTON_ID_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    CALLBACK_DATA_MAX,
    CAPTION_MAX,
    HEADER_FOOTER_MAX,
    INTERACTIVE_BODY_MAX,
    LIST_BUTTON_MAX,
    LIST_ROWS_MAX,
    LIST_SECTIONS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_ID_MAX,
    ROW_TITLE_MAX,
    SECTION_TITLE_MAX,
    TEXT_MAX,
)

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_MAX = 5.0
UPLOAD_MIN_BYTES_PER_SECOND = 1_000_000  # media uploads get this much more time per byte than other calls


class MessageLimitError(ValueError):
    """The message breaks a Cloud API limit; fix or split it instead of sending it."""


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise MessageLimitError(problem)


def _within(text: Any, maximum: int) -> bool:
    """True for a non-blank string of at most `maximum` characters."""
    return isinstance(text, str) and bool(text.strip()) and len(text) <= maximum


def check_limits(message: Dict[str, Any]) -> None:
    """Raise MessageLimitError when `message` (a Graph message object) breaks a documented limit."""
    kind = message.get("type")
    _require(isinstance(kind, str) and isinstance(message.get(kind), dict), "message needs `type` and its object")
    if kind == "text":
        body = message["text"].get("body")
        _require(_within(body, TEXT_MAX), f"text body must be 1..{TEXT_MAX} characters and not blank")
    elif kind == "interactive":
        _check_interactive(message["interactive"])
    elif kind in ("image", "document", "video", "audio", "sticker"):
        media = message[kind]
        _require(bool(media.get("link") or media.get("id")), f"{kind} needs a link or an id")
        _require(len(media.get("caption") or "") <= CAPTION_MAX, f"caption over {CAPTION_MAX} characters")


def _check_interactive(interactive: Dict[str, Any]) -> None:
    body = (interactive.get("body") or {}).get("text")
    _require(_within(body, INTERACTIVE_BODY_MAX), f"interactive body must be 1..{INTERACTIVE_BODY_MAX} characters")
    for part in ("header", "footer"):
        text = (interactive.get(part) or {}).get("text") or ""
        _require(len(text) <= HEADER_FOOTER_MAX, f"{part} over {HEADER_FOOTER_MAX} characters")
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        _check_buttons(action.get("buttons") or [])
    elif interactive.get("type") == "list":
        _check_list(action)


def _check_buttons(buttons: List[Dict[str, Any]]) -> None:
    _require(1 <= len(buttons) <= BUTTONS_MAX, f"reply buttons must number 1..{BUTTONS_MAX}, got {len(buttons)}")
    titles = [(button.get("reply") or {}).get("title") for button in buttons]
    for button, title in zip(buttons, titles):
        _require(_within(title, BUTTON_TITLE_MAX), f"button title must be 1..{BUTTON_TITLE_MAX} characters")
        button_id = (button.get("reply") or {}).get("id")
        _require(_within(button_id, BUTTON_ID_MAX), f"button id must be 1..{BUTTON_ID_MAX} characters")
    _require(len(set(titles)) == len(titles), "button titles must be unique within a message")


def _check_list(action: Dict[str, Any]) -> None:
    _require(_within(action.get("button"), LIST_BUTTON_MAX), f"list button must be 1..{LIST_BUTTON_MAX} characters")
    sections = action.get("sections") or []
    _require(1 <= len(sections) <= LIST_SECTIONS_MAX, f"list sections must number 1..{LIST_SECTIONS_MAX}")
    for section in sections:
        title = section.get("title")
        _require(title is not None or len(sections) == 1, "every section needs a title when there are several")
        _require(title is None or _within(title, SECTION_TITLE_MAX), f"section title must be 1..{SECTION_TITLE_MAX}")
    rows = [row for section in sections for row in section.get("rows") or []]
    _require(1 <= len(rows) <= LIST_ROWS_MAX, f"list rows must number 1..{LIST_ROWS_MAX} in total, got {len(rows)}")
    for row in rows:
        _require(_within(row.get("title"), ROW_TITLE_MAX), f"row title must be 1..{ROW_TITLE_MAX} characters")
        _require(_within(row.get("id"), ROW_ID_MAX), f"row id must be 1..{ROW_ID_MAX} characters")
        description = row.get("description") or ""
        _require(len(description) <= ROW_DESCRIPTION_MAX, f"row description over {ROW_DESCRIPTION_MAX} characters")


class GraphApiClient:
    """Async client of `{base_url}/{phone_number_id}/messages`."""

    def __init__(self, base_url: str, phone_number_id: str, access_token: str, timeout_seconds: float = 15.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._phone_number_id = phone_number_id
        self._access_token = access_token
        self._timeout = aiohttp.ClientTimeout(
            total=timeout_seconds, connect=min(CONNECT_TIMEOUT_MAX, timeout_seconds)
        )
        self._session: Optional[aiohttp.ClientSession] = None
        self._auth_failure_logged = False

    def __repr__(self) -> str:
        return f"GraphApiClient({self._base_url!r}, phone_number_id={self._phone_number_id!r})"

    @property
    def _messages_url(self) -> str:
        return f"{self._base_url}/{self._phone_number_id}/messages"

    def _client(self) -> aiohttp.ClientSession:
        """The pooled session, created on first use inside the running loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the pooled connections (a later call opens a new session)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def send_message(
        self,
        to: str,
        message: Dict[str, Any],
        reply_to: Optional[str] = None,
        callback_data: Optional[str] = None,
    ) -> str:
        """Send one message object (without `to`/`messaging_product`); returns the wamid Meta assigned."""
        check_limits(message)
        fits = callback_data is None or len(callback_data) <= CALLBACK_DATA_MAX
        _require(fits, f"callback data over {CALLBACK_DATA_MAX} characters")
        body: Dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        if reply_to:
            body["context"] = {"message_id": reply_to}
        if callback_data:
            body["biz_opaque_callback_data"] = callback_data
        answer = await self._request("POST", self._messages_url, body, recipient=to)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise TransportError("send answer without messages[0].id", http_status=200) from None

    async def mark_read(self, message_id: str, typing: bool = False) -> None:
        """Mark an inbound message read; with `typing`, also show the typing indicator (up to 25 s)."""
        body: Dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._request("POST", self._messages_url, body)

    async def list_templates(self, business_account_id: str, after: Optional[str] = None) -> Dict[str, Any]:
        """One page of the account's message templates (`data`, `paging`), as Meta answers it."""
        query = {"fields": "name,language,status,category,components", "limit": "100"}
        if after:
            query["after"] = after
        url = f"{self._base_url}/{business_account_id}/message_templates?{urllib.parse.urlencode(query)}"
        return await self._request("GET", url, None)

    async def media_info(self, media_id: str) -> Dict[str, Any]:
        """A media id's metadata as Meta answers it: `url` (valid for minutes), `mime_type`, `sha256`, `file_size`."""
        return await self._request("GET", f"{self._base_url}/{urllib.parse.quote(media_id, safe='')}", None)

    async def download_media(self, url: str, max_bytes: int) -> bytes:
        """The bytes behind a media `url` (from `media_info`), fetched with the same bearer token.

        A stalled read times out after the usual timeout; a body over `max_bytes` is cut off and
        refused (RequestError, reason `media_too_large`) instead of filling memory.
        """
        headers = {"Authorization": f"Bearer {self._access_token}"}
        timeout = aiohttp.ClientTimeout(total=None, connect=self._timeout.connect, sock_read=self._timeout.total)
        try:
            async with self._client().get(url, headers=headers, timeout=timeout) as response:
                if not 200 <= response.status < 300:
                    error = error_from_response(response.status, await response.read())
                    self._log_failure(error, "GET", None)
                    raise error
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise RequestError(f"media over {max_bytes} bytes", reason="media_too_large")
                return bytes(data)
        except asyncio.TimeoutError:
            raise self._transport_failure(TransportError("media download timeout"), "GET", None) from None
        except aiohttp.ClientError as error:
            failure = TransportError(f"media download failed: {type(error).__name__}")
            raise self._transport_failure(failure, "GET", None) from None

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file to `/{phone_number_id}/media` (multipart, as Meta documents it); returns its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename, content_type=mime_type)
        # The usual timeout plus the time a slow link (UPLOAD_MIN_BYTES_PER_SECOND) needs for the file.
        total = self._timeout.total + len(data) / UPLOAD_MIN_BYTES_PER_SECOND
        timeout = aiohttp.ClientTimeout(total=total, connect=self._timeout.connect)
        url = f"{self._base_url}/{self._phone_number_id}/media"
        answer = await self._request("POST", url, None, form=form, timeout=timeout)
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise TransportError("upload answer without an id", http_status=200)
        return media_id

    async def _request(
        self,
        method: str,
        url: str,
        body: Optional[Dict[str, Any]],
        recipient: Optional[str] = None,
        form: Optional[aiohttp.FormData] = None,
        timeout: Optional[aiohttp.ClientTimeout] = None,
    ) -> Dict[str, Any]:
        """One HTTP call (a JSON body, or a multipart `form`); Graph errors and transport failures come back as GraphApiError."""
        headers = {"Authorization": f"Bearer {self._access_token}"}
        payload: Dict[str, Any] = {"data": form} if form is not None else {"json": body}
        if timeout is not None:
            payload["timeout"] = timeout
        try:
            async with self._client().request(method, url, headers=headers, **payload) as response:
                raw = await response.read()
                status = response.status
        except asyncio.TimeoutError:
            raise self._transport_failure(TransportError("Graph API timeout"), method, recipient) from None
        except aiohttp.ClientError as error:
            failure = TransportError(f"Graph API connection failed: {type(error).__name__}")
            raise self._transport_failure(failure, method, recipient) from None
        if not 200 <= status < 300:
            error = error_from_response(status, raw)
            self._log_failure(error, method, recipient)
            raise error
        try:
            answer = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            failure = TransportError("Graph API answered with a body that is not a JSON object", http_status=status)
            raise self._transport_failure(failure, method, recipient)
        return answer

    def _transport_failure(self, error: TransportError, method: str, recipient: Optional[str]) -> TransportError:
        logger.warning(
            "whatsapp.graph.transport_failed",
            extra={"method": method, "recipient": mask_phone(recipient), "error": str(error)},
        )
        return error

    def _log_failure(self, error: GraphApiError, method: str, recipient: Optional[str]) -> None:
        fields = {**error.log_fields(), "method": method, "recipient": mask_phone(recipient)}
        if isinstance(error, AuthorizationError):
            if not self._auth_failure_logged:
                self._auth_failure_logged = True
                logger.error(
                    "whatsapp.graph.auth_failed",
                    extra={**fields, "action": "replace WHATSAPP_ACCESS_TOKEN; replies stay queued until then"},
                )
            return
        logger.warning("whatsapp.graph.error", extra=fields)
