"""Voice notes and audio to text through the openai client (`audio.transcriptions.create`).

`Transcriber.transcribe()` never raises: without a key, or when OpenAI fails, it answers None
and the customer is told politely that audio cannot be heard right now. The usage of each call is
logged as `ai.transcription.completed`, the same structured usage log as the AI answers.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Dict, Optional

import openai
from openai import AsyncOpenAI

from supportdesk.platform.openai_client import openai_client
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.settings import Settings

logger = logging.getLogger(__name__)

# File name extensions OpenAI accepts, by the MIME type WhatsApp reports (parameters like `; codecs=opus` dropped).
_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/x-m4a": "m4a",
    "audio/aac": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "webm",
    "audio/flac": "flac",
    "audio/amr": "amr",  # refused by OpenAI: the customer gets the polite reply
    "video/mp4": "mp4",
}


@dataclasses.dataclass(frozen=True)
class Transcript:
    """A transcription's text and what it cost."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    elapsed_ms: float = 0.0


def audio_filename(mime_type: Optional[str]) -> str:
    """A file name whose extension tells OpenAI the audio format."""
    base = (mime_type or "").split(";")[0].strip().lower()
    return f"voice.{_EXTENSIONS.get(base, 'ogg')}"


def _usage(answer: Any) -> Dict[str, int]:
    usage = getattr(answer, "usage", None)
    fields = ("input_tokens", "output_tokens", "total_tokens")
    return {name: int(getattr(usage, name, 0) or 0) for name in fields}


class Transcriber:
    """Transcribes with `OPENAI_TRANSCRIPTION_MODEL`; the HTTP client is created on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Optional[AsyncOpenAI] = None

    @property
    def configured(self) -> bool:
        """True when an API key is set; without one no request is ever made."""
        return bool(self._settings.openai_api_key)

    def _openai(self) -> AsyncOpenAI:
        if self._client is None:
            # a minute of audio takes a few seconds
            self._client = openai_client(self._settings, max(self._settings.openai_timeout_seconds, 30.0), max_retries=1)
        return self._client

    async def transcribe(self, audio: bytes, mime_type: Optional[str], conversation_id: str) -> Optional[Transcript]:
        """The text spoken in `audio`, or None (no key, OpenAI failed, nothing was said); never raises."""
        if not self.configured:
            return None
        model = self._settings.openai_transcription_model
        started = time.perf_counter()
        try:
            answer = await self._openai().audio.transcriptions.create(
                model=model, file=(audio_filename(mime_type), audio, (mime_type or "audio/ogg").split(";")[0])
            )
        except openai.OpenAIError as error:
            logger.warning(
                "ai.transcription.failed",
                extra={
                    "sender": mask_phone(conversation_id),
                    "model": model,
                    "status": getattr(error, "status_code", None),
                    "error_type": getattr(error, "type", None) or type(error).__name__,
                },
            )
            return None
        except Exception as error:  # an answer we cannot read must not break the conversation
            logger.error("ai.transcription.crashed", extra={"error_type": type(error).__name__})
            return None
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        text = " ".join(str(getattr(answer, "text", "") or "").split())
        usage = _usage(answer)
        logger.info(
            "ai.transcription.completed",
            extra={
                "sender": mask_phone(conversation_id),
                "model": model,
                "usage_prompt": usage["input_tokens"],
                "usage_completion": usage["output_tokens"],
                "usage_total": usage["total_tokens"],
                "audio_bytes": len(audio),
                "elapsed_ms": elapsed_ms,
            },
        )
        return Transcript(text, elapsed_ms=elapsed_ms, **usage) if text else None

    async def aclose(self) -> None:
        """Close the HTTP client, if one was created."""
        if self._client is not None:
            await self._client.close()
            self._client = None
