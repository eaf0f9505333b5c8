"""What the AI writes for the team rather than the customer: handoff summaries and draft replies.

Both read the conversation as the history shows it (customer, assistant and attendant turns
and internal notes), scrubbed of secrets and trimmed to a token budget, and ask the model
for text only (no tools) with a bounded answer. The instructions are the Markdown files in
`prompts/`; each request ends with the language to write in. Token usage is logged like the
assistant's answers (`ai.<purpose>.completed`).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence

from supportdesk.attendant.notes import notes_of, with_notes
from supportdesk.knowledge.knowledge_base import PLACEHOLDER_PATTERN
from supportdesk.knowledge.openai_answers import ANSWER, AiOutcome, OpenAiAnswers
from supportdesk.knowledge.prompt import estimate_tokens, language_instruction, scrub_secrets
from supportdesk.messaging import tracker_bridge
from supportdesk.messaging.history import messages_from_events, with_pending
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone

logger = logging.getLogger(__name__)

PROMPT_DIRECTORY = Path(__file__).resolve().parent / "prompts"
# Labels the prompt files explain to the model; never shown to a person.
SPEAKERS = {"customer": "CUSTOMER", "bot": "ASSISTANT", "attendant": "ATTENDANT", "note": "NOTE"}
TRANSCRIPT_TOKEN_BUDGET = 3_000  # about 12 000 characters of the newest turns
MAX_TRANSCRIPT_LINES = 40


@functools.cache
def instructions(name: str) -> str:
    """The instructions in `prompts/<name>.md`."""
    return (PROMPT_DIRECTORY / f"{name}.md").read_text(encoding="utf-8").strip()

TrackerHistory = Callable[[str], Awaitable[Optional[List[Dict[str, Any]]]]]


async def conversation_messages(database: Database, tracker_history: TrackerHistory, conversation_id: str) -> List[Dict[str, Any]]:
    """The whole history as the attendant sees it: tracker turns, messages not yet in it, and notes."""
    pending = await database.run(tracker_bridge.pending_rows, database, conversation_id)  # before the tracker
    events = await tracker_history(conversation_id) or []
    notes = await database.run(notes_of, database, conversation_id)
    return with_notes(with_pending(conversation_id, messages_from_events(conversation_id, events), pending), notes)


def transcript(messages: Sequence[Mapping[str, Any]], secrets: Sequence[str] = ()) -> str:
    """The newest history messages as `SPEAKER: text` lines within the token budget, oldest first."""
    lines: List[str] = []
    used = 0
    for message in reversed(list(messages)[-MAX_TRANSCRIPT_LINES:]):
        text = " ".join(str(message.get("text") or "").split())
        speaker = SPEAKERS.get(str(message.get("sender")))
        if not text or speaker is None:
            continue
        line = f"{speaker}: {scrub_secrets(text, secrets)}"
        if lines and used + estimate_tokens(line) > TRANSCRIPT_TOKEN_BUDGET:
            break
        lines.append(line)
        used += estimate_tokens(line)
    return "\n".join(reversed(lines))


def request_messages(name: str, conversation: str, language: str, values: Optional[Mapping[str, str]] = None) -> List[Dict[str, str]]:
    """The chat messages: the instructions (placeholders filled) ending in the language, then the conversation."""
    filled = PLACEHOLDER_PATTERN.sub(lambda match: (values or {}).get(match.group(1), match.group(0)), instructions(name))
    return [
        {"role": "system", "content": f"{filled}\n\n{language_instruction(language)}"},
        {"role": "user", "content": conversation},
    ]


async def write(
    answers: OpenAiAnswers, purpose: str, messages: Sequence[Mapping[str, Any]], max_tokens: int, conversation_id: str, model: str
) -> AiOutcome:
    """Ask for text only, bounded by `max_tokens`; log the usage; never raises."""
    outcome = await answers.answer(messages, tools=False, max_tokens=max_tokens)
    if outcome.kind == ANSWER or outcome.total_tokens:
        logger.info(
            f"ai.{purpose}.completed",
            extra={
                "sender": mask_phone(conversation_id),
                "outcome": outcome.kind,
                "model": model,
                "usage_prompt": outcome.prompt_tokens,
                "usage_completion": outcome.completion_tokens,
                "usage_total": outcome.total_tokens,
            },
        )
    else:
        logger.info(f"ai.{purpose}.unavailable", extra={"sender": mask_phone(conversation_id), "reason": outcome.reason})
    return outcome
