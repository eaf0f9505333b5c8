"""A customer's photo without a caption, shown to the AI answer as an image input.

The media step turns such a photo into the `ask_question` turn when OpenAI is configured (the
AI answer's rule, so its per-hour budget applies); `action_ai_answer` then adds the stored image
to the last customer turn as a Chat Completions content part with a `data:` URL (`detail: low`,
about 85 input tokens). Without a stored image nothing is added and the answer is text-only.
"""

from __future__ import annotations

import base64
import functools
import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional

from supportdesk.media.store import MediaStore, open_media_store

logger = logging.getLogger(__name__)

ASK_QUESTION = "/ask_question"  # the turn a captionless photo becomes when the AI can look at it
IMAGE_INPUT_TYPES = ("image/jpeg", "image/png", "image/webp")  # what the chat model accepts and WhatsApp sends
IMAGE_INPUT_MAX_BYTES = 5 * 1000 * 1000  # WhatsApp's image limit; far under OpenAI's
MEDIA_FILE_KEY = "media_file"  # the user turn's metadata the media step writes


def can_show(media_file: Mapping[str, Any]) -> bool:
    """True for a stored image the chat model accepts."""
    mime_type = str(media_file.get("mime_type") or "").split(";")[0].strip().lower()
    return (
        media_file.get("status") == "stored"
        and bool(media_file.get("storage_key"))
        and mime_type in IMAGE_INPUT_TYPES
        and int(media_file.get("size") or 0) <= IMAGE_INPUT_MAX_BYTES
    )


def latest_media_file(events: Iterable[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The media file of the last customer turn, if it carried one."""
    last_user = None
    for event in events:
        if event.get("event") == "user":
            last_user = event
    media_file = ((last_user or {}).get("metadata") or {}).get(MEDIA_FILE_KEY)
    return media_file if isinstance(media_file, Mapping) else None


@functools.lru_cache(maxsize=4)
def _store(url: str) -> MediaStore:
    return open_media_store(url)


def image_part(media_file: Mapping[str, Any], storage_url: str) -> Optional[Dict[str, Any]]:
    """The image as a content part (`image_url` with a base64 `data:` URL), or None when it cannot be shown."""
    if not can_show(media_file):
        return None
    try:
        data = _store(storage_url).read(str(media_file["storage_key"]))
    except Exception as error:  # the answer goes on without the picture
        logger.warning("media.image_input.unreadable", extra={"error": type(error).__name__})
        return None
    mime_type = str(media_file["mime_type"]).split(";")[0].strip().lower()
    url = f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url, "detail": "low"}}


def with_image(messages: List[Dict[str, Any]], part: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """`messages` with `part` as the customer's last turn (a new user message after the history)."""
    if part is None:
        return messages
    return [*messages, {"role": "user", "content": [part]}]
