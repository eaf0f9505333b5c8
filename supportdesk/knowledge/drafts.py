"""`POST /conversations/{id}/suggestion`: a draft reply for the attendant, from the knowledge files and the history.

Nothing is sent: the console puts the draft in the composer, where the attendant edits it.
The draft is written in the customer's language, notes included in what the model reads.
"""

from __future__ import annotations

import asyncio
from typing import Any

from supportdesk.knowledge.knowledge_base import current_knowledge
from supportdesk.knowledge.openai_answers import ANSWER, get_openai_answers
from supportdesk.knowledge.prompt import configured_secrets
from supportdesk.knowledge.team_writing import conversation_messages, request_messages, transcript, write
from supportdesk.messaging.conversations import load_conversation

DRAFT_MAX_TOKENS = 400  # a WhatsApp-sized answer; the attendant edits it anyway


class UnknownDraftConversation(LookupError):
    """No conversation with that id."""


class AiUnavailable(Exception):
    """No draft: OpenAI is not configured or did not answer; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def draft_reply(runtime: Any, conversation_id: str) -> str:
    """A draft reply for the conversation (`runtime` gives database, settings, tracker history)."""
    database, settings = runtime.database, runtime.settings
    conversation = await database.run(load_conversation, database, conversation_id)
    if conversation is None:
        raise UnknownDraftConversation(conversation_id)
    answers = get_openai_answers()
    if not answers.configured:
        raise AiUnavailable("no_api_key")
    knowledge = await asyncio.to_thread(current_knowledge)
    history = await conversation_messages(database, runtime.tracker_history, conversation_id)
    secrets = configured_secrets(settings)
    language = conversation.language or settings.default_language
    messages = request_messages("draft", transcript(history, secrets), language, {"knowledge": knowledge.text})
    outcome = await write(answers, "draft", messages, DRAFT_MAX_TOKENS, conversation_id, settings.openai_model)
    if outcome.kind != ANSWER or not outcome.text:
        raise AiUnavailable(outcome.reason or "empty_answer")
    return outcome.text
