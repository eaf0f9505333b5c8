"""Builds what the model sees: system prompt with the business knowledge, then recent turns.

This is the one place to review what leaves for OpenAI. A request holds only the knowledge
files, the customer's WhatsApp name and this conversation's recent turns; never the sender
id, settings values or other conversations. Turn text is scrubbed of configured secrets and
of credential-shaped strings (API keys, bearer tokens, JWTs) before it is sent.

Token estimate: one token per four characters, plus four per message for the chat format.
It is the usual rule of thumb for English text and errs on the high side for short words,
which is the safe side for a budget; no tokenizer is needed.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
import zoneinfo
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from supportdesk.knowledge.knowledge_base import PLACEHOLDER_PATTERN, Knowledge
from supportdesk.platform.settings import SUPPORTED_LANGUAGES, Settings

CUSTOMER, BOT, ATTENDANT = "customer", "bot", "attendant"
ATTENDANT_TAG = "[Attendant]"  # the prompt template tells the model what this prefix means
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
# Room for the conversation history on top of the knowledge: about 8 000 characters, more
# than twelve WhatsApp-sized turns, so the budget only bites when customers paste long texts.
HISTORY_TOKEN_BUDGET = 2_000
DEFAULT_CONTEXT_TURNS = 12
MAX_CUSTOMER_NAME_CHARS = 60
UNKNOWN_NAME = "unknown"
REDACTED = "[redacted]"

_CREDENTIAL_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),  # OpenAI-style API keys
    re.compile(r"\bEAA[A-Za-z0-9]{20,}"),  # Meta Graph API access tokens
    re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"),  # JWTs
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._\-~+/=]{8,}"),
)
_SESSION_BOUNDARIES = ("session_started", "restart")
ENGLISH, PORTUGUESE = SUPPORTED_LANGUAGES
# Told to the model, never shown to anyone: the language of everything it writes for a conversation.
LANGUAGE_INSTRUCTIONS = {
    ENGLISH: "Answer in English.",
    PORTUGUESE: "Answer in Brazilian Portuguese.",
}


@dataclasses.dataclass(frozen=True)
class ConversationTurn:
    """One message of the conversation: who wrote it (`customer`, `bot`, `attendant`) and its text."""

    speaker: str
    text: str


def _customer_words(event: Mapping[str, Any]) -> str:
    """What the customer wrote or tapped: a `/payload` becomes the tapped button's title, if any."""
    text = (event.get("text") or "").strip()
    if not text.startswith("/"):
        return text
    reply = (event.get("metadata") or {}).get("reply") or {}
    return (reply.get("title") or "").strip()


def turns_from_events(events: Iterable[Mapping[str, Any]]) -> List[ConversationTurn]:
    """The text turns of the current session, oldest first, from tracker event dicts.

    A user turn that is a `/payload` (a tap) is shown as the title of the button or list row
    tapped (WhatsApp channel metadata `reply.title`) and left out when there is none.
    """
    turns: List[ConversationTurn] = []
    for event in events:
        kind = event.get("event")
        if kind in _SESSION_BOUNDARIES:
            turns = []
            continue
        text = _customer_words(event) if kind == "user" else (event.get("text") or "").strip()
        if not text:
            continue
        if kind == "user":
            turns.append(ConversationTurn(CUSTOMER, text))
        elif kind == "bot":
            speaker = ATTENDANT if (event.get("metadata") or {}).get("attendant_id") else BOT
            turns.append(ConversationTurn(speaker, text))
    return turns


def customer_name_from(events: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """The WhatsApp profile name the channel put in the latest user message's metadata."""
    name = None
    for event in events:
        if event.get("event") == "user":
            name = (event.get("metadata") or {}).get("profile_name") or name
    return name


def business_time(timestamp: float, timezone_name: str) -> datetime.datetime:
    """`timestamp` as local time at the business (UTC if the zone is unknown)."""
    try:
        zone: datetime.tzinfo = zoneinfo.ZoneInfo(timezone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = datetime.timezone.utc
    return datetime.datetime.fromtimestamp(timestamp, zone)


def estimate_tokens(text: str) -> int:
    """Estimated tokens of one chat message holding `text` (see the module docstring)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS


def trim_to_budget(turns: Sequence[ConversationTurn], budget: int) -> List[ConversationTurn]:
    """The newest turns whose estimated tokens fit `budget`; the newest one is always kept."""
    kept: List[ConversationTurn] = []
    used = 0
    for turn in reversed(turns):
        cost = estimate_tokens(turn.text)
        if kept and used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    return kept


def configured_secrets(settings: Settings) -> List[str]:
    """Secret values from the settings that must never appear in a request to the model."""
    values = (
        settings.openai_api_key,
        settings.whatsapp_access_token,
        settings.whatsapp_app_secret,
        settings.whatsapp_verify_token,
        settings.attendant_jwt_secret,
    )
    return [value for value in values if value and len(value) >= 6]


def scrub_secrets(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with configured secrets and credential-shaped strings replaced by `[redacted]`."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _CREDENTIAL_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _clean_customer_name(name: Optional[str], secrets: Sequence[str]) -> str:
    """The name as one short line: it is customer-controlled text going into the system prompt."""
    flat = " ".join((name or "").split())[:MAX_CUSTOMER_NAME_CHARS]
    return scrub_secrets(flat, secrets) or UNKNOWN_NAME


def conversation_language(slot_value: Any, default: str) -> str:
    """The conversation's language from its `language` slot; `default` (DEFAULT_LANGUAGE) until it is known."""
    return slot_value if slot_value in LANGUAGE_INSTRUCTIONS else default


def language_instruction(language: str) -> str:
    """The line telling the model to write in `language` (`en`, `pt-BR`): for answers, summaries and drafts."""
    try:
        return LANGUAGE_INSTRUCTIONS[language]
    except KeyError:
        raise ValueError(f"no model instruction for language {language!r}; add it to LANGUAGE_INSTRUCTIONS") from None


def render_system_prompt(
    knowledge: Knowledge, customer_name: str, now: datetime.datetime, business_hours: str = ""
) -> str:
    """The prompt template with its placeholders filled in a single pass (`business_hours` from BUSINESS_HOURS)."""
    values = {
        "knowledge": knowledge.text,
        "customer_name": customer_name,
        "now": now.strftime("%A %d %B %Y, %H:%M"),
        "business_hours": business_hours,
    }
    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return PLACEHOLDER_PATTERN.sub(fill, knowledge.prompt_template)


def _chat_message(turn: ConversationTurn, secrets: Sequence[str]) -> Dict[str, str]:
    text = scrub_secrets(turn.text, secrets)
    if turn.speaker == CUSTOMER:
        return {"role": "user", "content": text}
    if turn.speaker == ATTENDANT:
        return {"role": "assistant", "content": f"{ATTENDANT_TAG} {text}"}
    return {"role": "assistant", "content": text}


def build_messages(
    knowledge: Knowledge,
    turns: Sequence[ConversationTurn],
    customer_name: Optional[str],
    now: datetime.datetime,
    secrets: Sequence[str] = (),
    max_turns: int = DEFAULT_CONTEXT_TURNS,
    history_token_budget: int = HISTORY_TOKEN_BUDGET,
    language: str = ENGLISH,
    business_hours: str = "",
) -> List[Dict[str, str]]:
    """Chat Completions messages: the system prompt ending in the language to answer in, then recent turns.

    The last `max_turns` turns are sent, within the token budget; `language` is the conversation's.
    """
    template = render_system_prompt(knowledge, _clean_customer_name(customer_name, secrets), now, business_hours)
    system = f"{template}\n\n{language_instruction(language)}"
    recent = list(turns[-max_turns:]) if max_turns > 0 else []
    history = [_chat_message(turn, secrets) for turn in trim_to_budget(recent, history_token_budget)]
    return [{"role": "system", "content": system}, *history]
