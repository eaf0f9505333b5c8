"""The summary on handoff: when a customer starts waiting, the AI tells the team what they need.

It runs after the holding message, never before it: the handoff action only queues the
customer (and, without OpenAI, sends today's push); this replica's loop then picks every
waiting conversation not yet summarised for its current wait, wins it with one conditional
UPDATE (`summary_for` = that wait's `waiting_since`, so replicas never summarise twice),
asks the model, stores `summary`, streams the change and sends the handoff push with the
summary as its body (today's text when the model gave none). Notes are part of what the model
reads; the language is the team's (`DEFAULT_LANGUAGE`).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, List, Optional

from supportdesk.attendant.alerts import courtesy_push, customer_label, handoff_push, team_text
from supportdesk.attendant.push import PushMessage, PushSender
from supportdesk.knowledge.openai_answers import ANSWER, OpenAiAnswers, get_openai_answers
from supportdesk.knowledge.prompt import configured_secrets
from supportdesk.knowledge.team_writing import TrackerHistory, conversation_messages, request_messages, transcript, write
from supportdesk.messaging.conversations import COLUMNS, Conversation, conversation_from_row, publish_conversation
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.settings import Settings

logger = logging.getLogger(__name__)

SUMMARY_MAX_TOKENS = 160  # one short paragraph
MAX_SUMMARY_CHARS = 600
BATCH = 5  # conversations summarised per pass; the others wait for the next pass


def summaries_enabled(settings: Settings) -> bool:
    """True when OpenAI is configured: the loop then sends the handoff push, with the summary."""
    return bool(settings.openai_api_key)


def take_unsummarised(database: Database, limit: int = BATCH) -> List[Conversation]:
    """Waiting conversations not yet summarised for this wait, each won by this replica alone."""
    rows = database.execute(
        f"SELECT {COLUMNS} FROM conversations WHERE status = 'waiting' AND waiting_since IS NOT NULL "
        "AND (summary_for IS NULL OR summary_for <> waiting_since) ORDER BY waiting_since LIMIT ?",
        (limit,),
    )
    won = []
    for row in rows:
        with database.transaction() as cursor:
            taken = cursor.execute(
                "UPDATE conversations SET summary_for = waiting_since WHERE id = ? AND status = 'waiting' "
                "AND waiting_since = ? AND (summary_for IS NULL OR summary_for <> waiting_since)",
                (row["id"], row["waiting_since"]),
            ).rowcount
        if taken == 1:
            won.append(conversation_from_row(row))
    return won


def store_summary(database: Database, conversation_id: str, summary: str) -> Conversation:
    """Keep the summary on the conversation and stream the change (one transaction)."""
    with database.transaction() as cursor:
        cursor.execute(
            "UPDATE conversations SET summary = ?, version = version + 1, updated_at = ? WHERE id = ?",
            (summary, time.time(), conversation_id),
        )
        conversation = publish_conversation(cursor, conversation_id)
    return conversation


async def summarize(
    answers: OpenAiAnswers, database: Database, tracker_history: TrackerHistory, settings: Settings, conversation_id: str
) -> Optional[str]:
    """The model's summary of the conversation, or None when it gave none."""
    history = await conversation_messages(database, tracker_history, conversation_id)
    messages = request_messages("summary", transcript(history, configured_secrets(settings)), settings.default_language)
    outcome = await write(answers, "summary", messages, SUMMARY_MAX_TOKENS, conversation_id, settings.openai_model)
    if outcome.kind != ANSWER or not outcome.text:
        return None
    return " ".join(outcome.text.split())[:MAX_SUMMARY_CHARS]


def summary_push(conversation: Conversation) -> PushMessage:
    """The handoff push with the summary as its body (today's push without one)."""
    if not conversation.summary:
        return handoff_push(conversation)
    body = team_text("utter_push_handoff_body", customer=customer_label(conversation), reason=conversation.summary)
    return PushMessage("handoff", conversation.id, team_text("utter_push_handoff_title"), body)


async def run_summaries(
    database: Database, tracker_history: TrackerHistory, settings: Settings, pushes: Callable[[], PushSender],
    answers: Optional[OpenAiAnswers] = None,
) -> int:
    """One pass: summarise and push for every conversation that just started waiting; returns how many."""
    answers = answers or get_openai_answers()
    if not answers.configured:
        return 0
    taken = await database.run(take_unsummarised, database)
    for conversation in taken:
        try:
            summary = await summarize(answers, database, tracker_history, settings, conversation.id)
            if summary is not None:
                conversation = await database.run(store_summary, database, conversation.id, summary)
        except Exception:
            logger.exception("handoff.summary.failed", extra={"conversation": mask_phone(conversation.id)})
        await courtesy_push(database, pushes, lambda conversation=conversation: summary_push(conversation))
    return len(taken)

