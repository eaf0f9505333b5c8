"""OpenAI Chat Completions, wrapped once: timeout, one retry, tool definitions, a plain outcome.

`OpenAiAnswers.answer()` never raises: every failure becomes an `unavailable` outcome whose
`reason` says why. Transient failures (429, 5xx, timeouts, dropped connections) are retried
once, by us (the library's own retries are off so the budget stays one retry).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
from typing import Any, Dict, List, Mapping, Optional, Sequence

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion

from supportdesk.platform.openai_client import openai_client
from supportdesk.platform.settings import Settings, get_settings
from supportdesk.whatsapp.limits import TEXT_MAX

logger = logging.getLogger(__name__)

RETRY_DELAY_SECONDS = 1.0  # one short pause before the single retry; the customer is waiting
MAX_REASON_CHARS = 300  # the handoff reason is shown to attendants as a one-liner

ANSWER, HANDOFF, SCHEDULE, UNAVAILABLE = "answer", "handoff", "schedule", "unavailable"
REQUEST_HUMAN_TOOL = "request_human"
SCHEDULE_APPOINTMENT_TOOL = "schedule_appointment"

TOOLS: List[Dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": REQUEST_HUMAN_TOOL,
            "description": "Hand the conversation to a person from the team. Use it when the customer asks "
            "for a person, is unhappy, or needs something the business information does not cover.",
            "parameters": {
                "type": "object",
                "properties": {
                    "reason": {"type": "string", "description": "Why a person is needed, in one short sentence."}
                },
                "required": ["reason"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": SCHEDULE_APPOINTMENT_TOOL,
            "description": "Start an appointment request when the customer wants to book or change an "
            "appointment. The team confirms it; never confirm a booking yourself.",
            "parameters": {
                "type": "object",
                "properties": {
                    "requested_time": {
                        "type": "string",
                        "description": "The date and time the customer asked for, as an ISO 8601 date-time "
                        "when you can tell, otherwise in their words. Leave it out if they gave none.",
                    }
                },
                "required": [],
            },
        },
    },
]


@dataclasses.dataclass(frozen=True)
class AiOutcome:
    """What one AI call produced.

    `kind` is `answer` (with `text`), `handoff` (with the model's `reason`), `schedule`
    (with `requested_time` if the customer gave one) or `unavailable` (`reason` says why).
    """

    kind: str
    text: Optional[str] = None
    reason: Optional[str] = None
    requested_time: Optional[str] = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def unavailable(cls, reason: str) -> AiOutcome:
        """No usable answer, for `reason` (`no_api_key`, `timeout`, `rate_limited`, ...)."""
        return cls(kind=UNAVAILABLE, reason=reason)


def shorten_reply(text: str, limit: int = TEXT_MAX) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, ending in `…`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.9:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _arguments(raw: Optional[str]) -> Dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text_argument(arguments: Mapping[str, Any], name: str, limit: int) -> Optional[str]:
    value = arguments.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.split())[:limit]


def outcome_from_completion(completion: ChatCompletion) -> AiOutcome:
    """Map a completion to an outcome: a known tool call wins over text; text is shortened for WhatsApp."""
    usage = completion.usage
    tokens = {
        "prompt_tokens": usage.prompt_tokens if usage else 0,
        "completion_tokens": usage.completion_tokens if usage else 0,
        "total_tokens": usage.total_tokens if usage else 0,
    }
    message = completion.choices[0].message if completion.choices else None
    if message is None:
        return AiOutcome(kind=UNAVAILABLE, reason="empty_answer", **tokens)
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        arguments = _arguments(getattr(function, "arguments", None))
        if function is not None and function.name == REQUEST_HUMAN_TOOL:
            return AiOutcome(kind=HANDOFF, reason=_text_argument(arguments, "reason", MAX_REASON_CHARS), **tokens)
        if function is not None and function.name == SCHEDULE_APPOINTMENT_TOOL:
            return AiOutcome(kind=SCHEDULE, requested_time=_text_argument(arguments, "requested_time", 100), **tokens)
        logger.warning("ai.tool.unknown", extra={"tool": getattr(function, "name", None)})
    text = (message.content or "").strip()
    if not text:
        return AiOutcome(kind=UNAVAILABLE, reason="empty_answer", **tokens)
    return AiOutcome(kind=ANSWER, text=shorten_reply(text), **tokens)


def _failure_reason(error: Exception) -> str:
    if isinstance(error, openai.APITimeoutError):
        return "timeout"
    if isinstance(error, openai.APIConnectionError):
        return "connection_error"
    if isinstance(error, openai.RateLimitError):
        return "rate_limited"
    if isinstance(error, openai.InternalServerError):
        return "server_error"
    return "rejected"


def _is_transient(error: Exception) -> bool:
    return isinstance(error, (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError))


def _error_fields(error: Exception) -> Dict[str, Any]:
    """Loggable facts about an OpenAI error; never its message (it may quote the key)."""
    return {
        "failure": _failure_reason(error),
        "status": getattr(error, "status_code", None),
        "code": getattr(error, "code", None),
        "error_type": getattr(error, "type", None) or type(error).__name__,
        "request_id": getattr(error, "request_id", None),
    }


class OpenAiAnswers:
    """Asks the configured model; the HTTP client is created on first use and closed by `aclose()`."""

    def __init__(self, settings: Settings, retry_delay_seconds: float = RETRY_DELAY_SECONDS) -> None:
        self._settings = settings
        self._retry_delay_seconds = retry_delay_seconds
        self._client: Optional[AsyncOpenAI] = None

    @property
    def configured(self) -> bool:
        """True when an API key is set; without one no request is ever made."""
        return bool(self._settings.openai_api_key)

    def _openai(self) -> AsyncOpenAI:
        if self._client is None:
            self._client = openai_client(self._settings, self._settings.openai_timeout_seconds, max_retries=0)
        return self._client

    async def _complete(self, messages: Sequence[Mapping[str, Any]], tools: bool, max_tokens: Optional[int]) -> ChatCompletion:
        extra: Dict[str, Any] = {"tools": TOOLS, "tool_choice": "auto"} if tools else {}
        return await self._openai().chat.completions.create(
            model=self._settings.openai_model,
            messages=list(messages),
            temperature=self._settings.openai_temperature,
            max_tokens=max_tokens or self._settings.openai_max_tokens,
            **extra,
        )

    async def answer(
        self, messages: Sequence[Mapping[str, Any]], tools: bool = True, max_tokens: Optional[int] = None
    ) -> AiOutcome:
        """Ask the model with `messages` (from `ai_prompt.build_messages`); never raises.

        Summaries and drafts pass `tools=False` (text only) and their own `max_tokens` bound.
        """
        if not self.configured:
            return AiOutcome.unavailable("no_api_key")
        for attempt in (1, 2):
            try:
                return outcome_from_completion(await self._complete(messages, tools, max_tokens))
            except openai.OpenAIError as error:
                fields = _error_fields(error)
                if _is_transient(error) and attempt == 1:
                    logger.warning("ai.request.retrying", extra={**fields, "attempt": attempt})
                    await asyncio.sleep(self._retry_delay_seconds)
                    continue
                # A permanent rejection (key, model, request) is our configuration's fault.
                log = logger.warning if _is_transient(error) else logger.error
                log("ai.request.failed", extra={**fields, "attempt": attempt})
                return AiOutcome.unavailable(fields["failure"])
            except Exception as error:  # an answer we cannot read must not break the conversation
                # No traceback: it could quote the answer text, which stays out of logs.
                logger.error("ai.request.crashed", extra={"error_type": type(error).__name__, "attempt": attempt})
                return AiOutcome.unavailable("unreadable_answer")
        return AiOutcome.unavailable("retries_exhausted")  # not reached: attempt 2 always returns

    async def aclose(self) -> None:
        """Close the HTTP client, if one was created."""
        if self._client is not None:
            await self._client.close()
            self._client = None


@functools.lru_cache(maxsize=1)
def get_openai_answers() -> OpenAiAnswers:
    """The process-wide answerer built from the settings, created on first use."""
    return OpenAiAnswers(get_settings())


async def close_openai_answers() -> None:
    """Close the process-wide answerer's HTTP client at shutdown (nothing to do if none was made)."""
    if get_openai_answers.cache_info().currsize:
        await get_openai_answers().aclose()
        get_openai_answers.cache_clear()
