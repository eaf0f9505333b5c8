"""`action_request_handoff`: queue the customer for a person, tell the attendants, say one holding message.

Waiting is not silence: the assistant keeps answering a waiting customer (questions, scheduling,
small talk) until an attendant claims; the database's `conversations.status` alone silences it
then. Asked again while waiting, it reminds the customer a person will take over, honest about
the business hours.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.attendant.alerts import DEFAULT_HANDOFF_REASON, courtesy_push, handoff_push, team_text
from supportdesk.attendant.push import PushSender
from supportdesk.handoff import state as handoff
from supportdesk.handoff.holding import (
    business_hours_of,
    holding_response,
    moment_of,
    outside_hours_response,
    reminder_response,
    reopens_at,
)
from supportdesk.handoff.summary import summaries_enabled
from supportdesk.messaging.conversations import WAITING_SLOT, load_conversation
from supportdesk.messaging.inbox import has_written
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.responses import get_responses
from supportdesk.platform.settings import Settings, get_settings
from supportdesk.runtime import get_runtime

logger = logging.getLogger(__name__)

ACTION_NAME = "action_request_handoff"
REMINDER_ACTION_NAME = "action_handoff_reminder"
# The reason attendants read, by the intent that started the handoff (responses in domain/handoff.yml).
REASON_RESPONSES_BY_INTENT = {
    "request_human": "utter_handoff_reason_request_human",
    "place_order": "utter_handoff_reason_place_order",
    "cancel_appointment": "utter_handoff_reason_cancel_appointment",
    "nlu_fallback": "utter_handoff_reason_nlu_fallback",
}


def handoff_reason(tracker: Tracker) -> str:
    """The reason attendants see: set by the AI (slot), else from what the customer asked."""
    reason = tracker.get_slot("handoff_reason")
    if reason:
        return str(reason)[:200]
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    return team_text(REASON_RESPONSES_BY_INTENT.get(intent, DEFAULT_HANDOFF_REASON))


def say_reminder(dispatcher: CollectingDispatcher, tracker: Tracker, settings: Settings, now: float) -> None:
    """Remind a waiting customer that a person will take over (or when the team is back, out of hours)."""
    response, values = reminder_response(business_hours_of(settings), moment_of(now), tracker.current_slot_values())
    dispatcher.utter_message(response=response, **values)


class ActionHandoffReminder(Action):
    """A greeting ("hello?? anyone there") while waiting: the reminder, or the usual greeting once nobody waits."""

    def __init__(self, settings: Optional[Settings] = None, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> Text:
        """The action name used in the domain and rules."""
        return REMINDER_ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Ask the database whether the customer still waits (a claim or a release may have happened since)."""
        database = get_runtime().database
        conversation = await database.run(load_conversation, database, tracker.sender_id)
        if conversation is None or conversation.status != "waiting":
            # Claimed or released since this turn began: greet; the next turn's catch-up clears the slot
            # (clearing it here would leave the rule that ran without its condition, and no listen after it).
            dispatcher.utter_message(response="utter_greet")
            return []
        await asyncio.to_thread(get_responses)  # the first use loads the domain: not on the event loop
        say_reminder(dispatcher, tracker, self._settings or get_settings(), self._clock())
        return []


class ActionRequestHandoff(Action):
    """Moves the conversation to `waiting`, pushes to attendants, and says the holding message (or a reminder)."""

    def __init__(
        self,
        settings: Optional[Settings] = None,
        push_sender: Optional[PushSender] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._push_sender = push_sender
        self._clock = clock

    def name(self) -> Text:
        """The action name used in the domain, rules and stories."""
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Queue the customer (once) and answer with the holding message."""
        settings = self._settings or get_settings()
        database = get_runtime().database
        if not await database.run(has_written, database, tracker.sender_id):
            # Only Rasa may call us, but what it is told is checked too: nobody is queued who never wrote.
            logger.warning("handoff.refused_unknown_conversation", extra={"sender": mask_phone(tracker.sender_id)})
            return [SlotSet("handoff_reason", None)]
        now = self._clock()
        await asyncio.to_thread(get_responses)  # the first use loads the domain: not on the event loop
        reason = handoff_reason(tracker)
        opening = reopens_at(business_hours_of(settings), now)  # out of hours, the claim timers count from it
        result = await database.run(
            handoff.request_handoff, database, tracker.sender_id, reason, handoff.timeouts_from(settings), now, opening
        )
        logger.info(
            "handoff.requested",
            extra={"sender": mask_phone(tracker.sender_id), "reason": reason, "queued": result.changed},
        )
        if result.changed and not summaries_enabled(settings):  # with OpenAI, the push waits for the summary (`handoff.summary`)
            await courtesy_push(  # a failed push is logged and recorded; the customer still hears from us
                database, lambda: self._push_sender or get_runtime().push_sender, lambda: handoff_push(result.conversation)
            )
        if result.changed:
            await self._say_holding_message(dispatcher, tracker, settings, database, now)
        elif result.conversation is not None and result.conversation.status == "waiting":
            say_reminder(dispatcher, tracker, settings, now)
        waiting = result.conversation is not None and result.conversation.status == "waiting"
        # No pause: the assistant answers until a person claims (the database silences it then).
        return [SlotSet("handoff_reason", None), SlotSet(WAITING_SLOT, waiting)]

    async def _say_holding_message(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, settings: Settings, database, now: float
    ) -> None:
        hours, moment = business_hours_of(settings), moment_of(now)
        if not hours.is_open(moment):
            response, values = outside_hours_response(hours, moment, tracker.current_slot_values())
        else:
            rows = await database.run(
                database.execute, "SELECT COUNT(*) AS waiting FROM conversations WHERE status = 'waiting'"
            )
            response, values = holding_response(int(rows[0]["waiting"]))
        dispatcher.utter_message(response=response, **values)
