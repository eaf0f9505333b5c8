"""`action_ai_answer`: answers questions and NLU fallbacks with the AI, within a per-hour budget.

The model's tool calls become Rasa events (handoff, appointment form), never text. The
per-hour limit counts this action's executions in the tracker, so it holds across replicas.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.handoff.holding import business_hours_of
from supportdesk.knowledge.knowledge_base import KNOWLEDGE_DIRECTORY, KnowledgeError, current_knowledge
from supportdesk.knowledge.openai_answers import ANSWER, HANDOFF, SCHEDULE, AiOutcome, OpenAiAnswers, get_openai_answers
from supportdesk.knowledge.prompt import (
    build_messages,
    business_time,
    configured_secrets,
    conversation_language,
    customer_name_from,
    turns_from_events,
)
from supportdesk.media.image_input import image_part, latest_media_file, with_image
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.settings import Settings, get_settings
from supportdesk.scheduling.wording import opening_hours_text

logger = logging.getLogger(__name__)

ACTION_NAME = "action_ai_answer"
HANDOFF_ACTION = "action_request_handoff"
APPOINTMENT_FORM = "appointment_form"
FAILURES_BEFORE_HANDOFF_OFFER = 2  # one failure can be a blip; two in a row means the customer needs a person
LIMIT_WINDOW_SECONDS = 3600


def ai_calls_since(events: Iterable[Mapping[str, Any]], since: float) -> int:
    """How many times this action ran at or after the timestamp `since`."""
    return sum(
        1
        for event in events
        if event.get("event") == "action"
        and event.get("name") == ACTION_NAME
        and (event.get("timestamp") or 0) >= since
    )


def _slot_number(tracker: Tracker, name: str) -> float:
    try:
        return float(tracker.get_slot(name) or 0)
    except (TypeError, ValueError):
        return 0.0


class ActionAiAnswer(Action):
    """Asks the model with the business knowledge and recent turns, and maps its outcome to events."""

    def __init__(
        self,
        answers: Optional[OpenAiAnswers] = None,
        knowledge_directory: Path = KNOWLEDGE_DIRECTORY,
        settings: Optional[Settings] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._answers = answers
        self._knowledge_directory = knowledge_directory
        self._settings = settings
        self._clock = clock

    def name(self) -> Text:
        """The action name used in the domain, rules and stories."""
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Answer, hand off, start the appointment form, or fall back politely; never raises."""
        settings = self._settings or get_settings()
        now = self._clock()
        if ai_calls_since(tracker.events, now - LIMIT_WINDOW_SECONDS) >= settings.ai_max_calls_per_hour:
            logger.info(
                "ai.answer.limited",
                extra={"sender": mask_phone(tracker.sender_id), "limit": settings.ai_max_calls_per_hour},
            )
            dispatcher.utter_message(response="utter_knowledge_limit_reached")
            return []
        outcome = await self._ask(tracker, settings, now)
        if outcome.kind not in (ANSWER, HANDOFF, SCHEDULE):
            return self._fall_back(outcome, dispatcher, tracker, settings)
        events = [SlotSet("knowledge_failures", 0.0), self._record_usage(outcome, tracker, settings)]
        if outcome.kind == ANSWER:
            dispatcher.utter_message(text=outcome.text)
        elif outcome.kind == HANDOFF:
            events += [SlotSet("handoff_reason", outcome.reason)] if outcome.reason else []
            events.append(FollowupAction(HANDOFF_ACTION))
        else:
            events += [SlotSet("appointment_time", outcome.requested_time)] if outcome.requested_time else []
            events.append(FollowupAction(APPOINTMENT_FORM))
        return events

    async def _ask(self, tracker: Tracker, settings: Settings, now: float) -> AiOutcome:
        answers = self._answers or get_openai_answers()
        if not answers.configured:
            return AiOutcome.unavailable("no_api_key")
        try:
            knowledge = await asyncio.to_thread(current_knowledge, self._knowledge_directory)
        except (KnowledgeError, OSError) as error:
            logger.error("ai.knowledge.invalid", extra={"error": str(error)[:300]})
            return AiOutcome.unavailable("knowledge_invalid")
        messages = build_messages(
            knowledge,
            turns_from_events(tracker.events),
            customer_name_from(tracker.events),
            business_time(now, settings.business_timezone),
            secrets=configured_secrets(settings),
            max_turns=settings.ai_context_turns,
            language=conversation_language(tracker.get_slot("language"), settings.default_language),
            business_hours=opening_hours_text(business_hours_of(settings)),  # the one source of the hours
        )
        media_file = latest_media_file(tracker.events)  # a customer's photo without caption: the model sees it
        image = await asyncio.to_thread(image_part, media_file, settings.media_storage_url) if media_file else None
        return await answers.answer(with_image(messages, image))

    def _record_usage(self, outcome: AiOutcome, tracker: Tracker, settings: Settings) -> Dict[Text, Any]:
        """Log the call's token usage and return the slot event carrying the conversation's total."""
        total = _slot_number(tracker, "knowledge_tokens_used") + outcome.total_tokens
        logger.info(
            "ai.answer.completed",
            extra={
                "sender": mask_phone(tracker.sender_id),
                "outcome": outcome.kind,
                "model": settings.openai_model,
                "usage_prompt": outcome.prompt_tokens,
                "usage_completion": outcome.completion_tokens,
                "usage_total": outcome.total_tokens,
                "usage_conversation_total": int(total),
            },
        )
        return SlotSet("knowledge_tokens_used", total)

    def _fall_back(
        self, outcome: AiOutcome, dispatcher: CollectingDispatcher, tracker: Tracker, settings: Settings
    ) -> List[Dict[Text, Any]]:
        """The polite fallback; from the second failure in a row, also the offer of a person."""
        failures = _slot_number(tracker, "knowledge_failures") + 1
        logger.info(
            "ai.answer.unavailable",
            extra={"sender": mask_phone(tracker.sender_id), "reason": outcome.reason, "failures": int(failures)},
        )
        dispatcher.utter_message(response="utter_knowledge_unavailable")
        if failures >= FAILURES_BEFORE_HANDOFF_OFFER:
            dispatcher.utter_message(response="utter_handoff_offer")
        events = [SlotSet("knowledge_failures", failures)]
        if outcome.total_tokens:  # the model answered but unusably: its tokens were still paid for
            events.append(self._record_usage(outcome, tracker, settings))
        return events
