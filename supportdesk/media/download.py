"""Fetch a customer's media from WhatsApp at once: metadata, then bytes, checked, with retries.

`GET {WHATSAPP_API_URL}/{media id}` answers a URL valid for minutes; the bytes come from that
URL with the same bearer token. The size is checked against WhatsApp's limit for the message
type and against Meta's `file_size`, the SHA-256 against the webhook's (base64) and the
metadata's (hex). Transient failures, and a URL that expired or vanished (401/403/404 at the
download), are retried with the project's backoff, asking for a fresh URL each time; the wait is
capped low because the customer's turn waits for it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hashlib
from typing import Any, Awaitable, Callable, Dict, Optional

from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.graph_errors import GraphApiError
from supportdesk.whatsapp.limits import MEDIA_LIMITS, MEDIA_MAX

DOWNLOAD_MAX_ATTEMPTS = 3  # Meta's URL lives for minutes; three tries within seconds is the useful budget
DOWNLOAD_WAIT_CAP_SECONDS = 4.0  # the customer's turn waits behind the download
_EXPIRED_URL_STATUSES = (401, 403, 404, 410)  # at the download URL: ask for a fresh one


class MediaDownloadError(Exception):
    """The media could not be fetched or failed a check; `reason` is a short code, `detail` the why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class DownloadedMedia:
    """Checked bytes and Meta's facts about them."""

    data: bytes
    mime_type: str
    sha256: str  # hex
    attempts: int


def size_limit(kind: str) -> int:
    """The largest file WhatsApp carries for a message of `kind` (image, audio, ...)."""
    limits = MEDIA_LIMITS.get(kind)
    return limits[1] if limits else MEDIA_MAX


def sha256_matches(expected: Optional[str], digest: bytes) -> bool:
    """True when `expected` (hex, or base64 as in webhooks) is `digest`; an absent hash matches."""
    if not expected:
        return True
    text = expected.strip()
    if text.lower() == digest.hex():
        return True
    try:
        return base64.b64decode(text, validate=True) == digest
    except (binascii.Error, ValueError):
        return False


def download_policy(policy: RetryPolicy) -> RetryPolicy:
    """The graph policy bounded for a download the customer's turn waits for."""
    return RetryPolicy(
        min(policy.max_attempts, DOWNLOAD_MAX_ATTEMPTS),
        min(policy.base_seconds, DOWNLOAD_WAIT_CAP_SECONDS),
        min(policy.cap_seconds, DOWNLOAD_WAIT_CAP_SECONDS),
    )


def _retryable(error: GraphApiError, at_download: bool) -> bool:
    return error.transient or (at_download and error.http_status in _EXPIRED_URL_STATUSES)


def check(data: bytes, kind: str, info: Dict[str, Any], webhook_sha256: Optional[str]) -> str:
    """The hex SHA-256 of `data` after the size and hash checks; MediaDownloadError when one fails."""
    limit = size_limit(kind)
    if len(data) > limit:
        raise MediaDownloadError("too_large", f"{len(data)} bytes, over {limit} for {kind}")
    declared = info.get("file_size")
    if isinstance(declared, int) and declared != len(data):
        raise MediaDownloadError("size_mismatch", f"{len(data)} bytes, Meta said {declared}")
    digest = hashlib.sha256(data).digest()
    if not (sha256_matches(webhook_sha256, digest) and sha256_matches(info.get("sha256"), digest)):
        raise MediaDownloadError("sha256_mismatch", "the bytes are not the file the customer sent")
    return digest.hex()


async def download(
    graph: GraphApiClient,
    media_id: str,
    kind: str,
    webhook_sha256: Optional[str],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> DownloadedMedia:
    """The media's checked bytes; MediaDownloadError (with the last failure's reason) when it cannot be had."""
    policy = download_policy(policy)
    attempt = 0
    while True:
        attempt += 1
        at_download = False
        try:
            info = await graph.media_info(media_id)
            url = info.get("url")
            declared = info.get("file_size")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise MediaDownloadError("no_url", "Meta's answer has no download URL")
            if isinstance(declared, int) and declared > size_limit(kind):
                raise MediaDownloadError("too_large", f"{declared} bytes, over {size_limit(kind)} for {kind}")
            at_download = True
            data = await graph.download_media(url, size_limit(kind))
            digest = check(data, kind, info, webhook_sha256)
            mime_type = str(info.get("mime_type") or "application/octet-stream")
            return DownloadedMedia(data, mime_type, digest, attempt)
        except GraphApiError as error:
            reason = error.reason if error.code is not None else f"http_{error.http_status}"  # no Graph error body
            if error.reason == "media_too_large":
                raise MediaDownloadError("too_large", f"over {size_limit(kind)} bytes for {kind}") from None
            if not (_retryable(error, at_download) and policy.may_retry(attempt)):
                where = "download" if at_download else "metadata"
                raise MediaDownloadError(reason, f"{where} failed after {attempt} attempt(s)") from None
        await sleep(policy.delay(attempt))
