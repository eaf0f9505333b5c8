"""The one Graph API client: send messages, mark read (with typing), look up media.

No retries here (the outbox retries with RetryPolicy, keeping each customer's order); one
HTTP request per call, each with a timeout. Limits Meta would refuse are checked before any
request and raise MessageLimitError, so a bad message is never sent (or resent).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, Optional

import aiohttp

from supportdesk.graph_errors import AuthorizationError, GraphApiError, TransportError, error_from_response
from supportdesk.redaction import mask_phone

logger = logging.getLogger(__name__)

TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
CAPTION_MAX = 1024


class MessageLimitError(ValueError):
    """The message breaks a Cloud API limit; fix it instead of sending it."""


def check_limits(message: Dict[str, Any]) -> None:
    """Raise MessageLimitError when `message` breaks a documented limit."""
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body") or ""
        if not body or len(body) > TEXT_MAX:
            raise MessageLimitError(f"text body must be 1..{TEXT_MAX} characters, got {len(body)}")
    elif kind == "interactive":
        _check_interactive(message.get("interactive") or {})
    elif kind in ("image", "document", "video", "audio"):
        media = message.get(kind) or {}
        if not (media.get("link") or media.get("id")):
            raise MessageLimitError(f"{kind} needs a link or an id")
        if len(media.get("caption") or "") > CAPTION_MAX:
            raise MessageLimitError(f"caption over {CAPTION_MAX} characters")


def _check_interactive(interactive: Dict[str, Any]) -> None:
    body = (interactive.get("body") or {}).get("text") or ""
    if not body or len(body) > INTERACTIVE_BODY_MAX:
        raise MessageLimitError(f"interactive body must be 1..{INTERACTIVE_BODY_MAX} characters")
    for part in ("header", "footer"):
        if len((interactive.get(part) or {}).get("text") or "") > HEADER_FOOTER_MAX:
            raise MessageLimitError(f"{part} over {HEADER_FOOTER_MAX} characters")
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= BUTTONS_MAX:
            raise MessageLimitError(f"reply buttons must number 1..{BUTTONS_MAX}, got {len(buttons)}")
        for button in buttons:
            title = (button.get("reply") or {}).get("title") or ""
            if not title or len(title) > BUTTON_TITLE_MAX:
                raise MessageLimitError(f"button title must be 1..{BUTTON_TITLE_MAX} characters: {title[:40]!r}")
    elif interactive.get("type") == "list":
        rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
        if not 1 <= len(rows) <= LIST_ROWS_MAX:
            raise MessageLimitError(f"list rows must number 1..{LIST_ROWS_MAX}, got {len(rows)}")
        for row in rows:
            if not row.get("title") or len(row["title"]) > ROW_TITLE_MAX:
                raise MessageLimitError(f"row title must be 1..{ROW_TITLE_MAX} characters: {row.get('title', '')[:40]!r}")
            if len(row.get("description") or "") > ROW_DESCRIPTION_MAX:
                raise MessageLimitError(f"row description over {ROW_DESCRIPTION_MAX} characters")


def _media(link_or_id: str) -> Dict[str, str]:
    return {"link": link_or_id} if link_or_id.startswith(("http://", "https://")) else {"id": link_or_id}


class GraphApiClient:
    """Async client of `{base_url}/{phone_number_id}/messages` and media lookups."""

    def __init__(self, base_url: str, phone_number_id: str, access_token: str, timeout_seconds: float = 15.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._phone_number_id = phone_number_id
        self._access_token = access_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None
        self._auth_failure_logged = False

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers={"Authorization": f"Bearer {self._access_token}"}
            )
        return self._session

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send_message(
        self,
        to: str,
        message: Dict[str, Any],
        reply_to: Optional[str] = None,
        callback_data: Optional[str] = None,
    ) -> str:
        """Send one message object (no `to`/`messaging_product`); returns the wamid Meta assigned."""
        check_limits(message)
        body: Dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        if reply_to:
            body["context"] = {"message_id": reply_to}
        if callback_data:
            body["biz_opaque_callback_data"] = callback_data[:512]
        answer = await self._request("POST", f"{self._base_url}/{self._phone_number_id}/messages", body)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise TransportError("send answer without messages[0].id", http_status=200) from None

    async def send_text(self, to: str, body: str, reply_to: Optional[str] = None, preview_url: bool = False) -> str:
        """Send plain text (≤ 4096 characters)."""
        return await self.send_message(to, {"type": "text", "text": {"body": body, "preview_url": preview_url}}, reply_to)

    async def send_image(self, to: str, link_or_id: str, caption: Optional[str] = None) -> str:
        """Send an image by URL or media id."""
        image = {**_media(link_or_id), **({"caption": caption} if caption else {})}
        return await self.send_message(to, {"type": "image", "image": image})

    async def send_document(
        self, to: str, link_or_id: str, filename: Optional[str] = None, caption: Optional[str] = None
    ) -> str:
        """Send a document by URL or media id."""
        document = {**_media(link_or_id), **({"filename": filename} if filename else {}), **({"caption": caption} if caption else {})}
        return await self.send_message(to, {"type": "document", "document": document})

    async def mark_read(self, message_id: str, typing: bool = False) -> None:
        """Mark an inbound message read; with `typing`, show the typing indicator until we answer."""
        body: Dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._request("POST", f"{self._base_url}/{self._phone_number_id}/messages", body)

    async def get_media(self, media_id: str) -> Dict[str, Any]:
        """`{url, mime_type, sha256, file_size, id}` of an inbound media id (the URL lives ~5 minutes)."""
        return await self._request("GET", f"{self._base_url}/{media_id}", None)

    async def _request(self, method: str, url: str, body: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        try:
            async with self._client().request(method, url, json=body) as response:
                raw = await response.read()
                status = response.status
        except asyncio.TimeoutError:
            raise TransportError("Graph API timeout") from None
        except aiohttp.ClientError as error:
            raise TransportError(f"Graph API connection failed: {type(error).__name__}") from None
        if status >= 300:
            error = error_from_response(status, raw)
            self._log_failure(error, body)
            raise error
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise TransportError("Graph API answered with a body that is not JSON", http_status=status) from None

    def _log_failure(self, error: GraphApiError, body: Optional[Dict[str, Any]]) -> None:
        fields = {
            "code": error.code, "subcode": error.subcode, "http_status": error.http_status,
            "details": error.details, "fbtrace_id": error.fbtrace_id,
            "recipient": mask_phone(str((body or {}).get("to", ""))) if body else None,
        }
        if isinstance(error, AuthorizationError):
            if not self._auth_failure_logged:
                self._auth_failure_logged = True
                logger.error(
                    "whatsapp.graph.auth_failed",
                    extra={**fields, "action": "replace WHATSAPP_ACCESS_TOKEN; replies stay queued until then"},
                )
            return
        logger.warning("whatsapp.graph.error", extra=fields)
