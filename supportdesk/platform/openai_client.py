"""The one way this service builds its OpenAI client (answers, drafts, summaries, transcription)."""

from __future__ import annotations

from openai import AsyncOpenAI

from supportdesk.platform.settings import Settings

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"  # passed explicitly so the library reads no environment


def openai_client(settings: Settings, timeout_seconds: float, max_retries: int) -> AsyncOpenAI:
    """An AsyncOpenAI client on `OPENAI_BASE_URL` (the fake in tests) with `OPENAI_API_KEY`."""
    return AsyncOpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url or DEFAULT_OPENAI_BASE_URL,
        timeout=timeout_seconds,
        max_retries=max_retries,
    )
