"""`action_request_handoff`: queue the customer for a person, tell the attendants, say one holding message.

The conversation's status in the database is what silences the bot at the send boundary;
the tracker is paused too, so the dialogue history says a person took over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.attendant.alerts import DEFAULT_HANDOFF_REASON, courtesy_push, handoff_push, team_text
from supportdesk.attendant.push import PushSender
from supportdesk.handoff import state as handoff
from supportdesk.handoff.summary import summaries_enabled
from supportdesk.messaging.inbox import has_written
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.responses import get_responses
from supportdesk.platform.settings import Settings, get_settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling.business_hours import BusinessHours, parse_business_hours
from supportdesk.scheduling.wording import clock_text, weekday_name

logger = logging.getLogger(__name__)

ACTION_NAME = "action_request_handoff"
# The reason attendants read, by the intent that started the handoff (responses in domain/handoff.yml).
REASON_RESPONSES_BY_INTENT = {
    "request_human": "utter_handoff_reason_request_human",
    "place_order": "utter_handoff_reason_place_order",
    "cancel_appointment": "utter_handoff_reason_cancel_appointment",
    "nlu_fallback": "utter_handoff_reason_nlu_fallback",
}
MINUTES_PER_WAITING_CUSTOMER = 3  # a rough expectation, said as "about N minutes"


def holding_response(customers_ahead: int) -> Tuple[str, Dict[str, Any]]:
    """The holding message's response and values, from the queue in front of the customer."""
    if customers_ahead <= 1:
        return "utter_handoff_queued_soon", {}
    return "utter_handoff_queued", {"wait_minutes": customers_ahead * MINUTES_PER_WAITING_CUSTOMER}


def outside_hours_response(
    hours: BusinessHours, now: dt.datetime, slots: Optional[Mapping[str, Any]] = None
) -> Tuple[str, Dict[str, Any]]:
    """The offline message's response and values: the team is back later today, tomorrow, or on a weekday."""
    opening = hours.next_opening(now)
    local_today = now.astimezone(hours.timezone).date()
    values: Dict[str, Any] = {"opening_time": clock_text(opening)}
    if opening.date() == local_today:
        return "utter_handoff_outside_hours_today", values
    if opening.date() == local_today + dt.timedelta(days=1):
        return "utter_handoff_outside_hours_tomorrow", values
    return "utter_handoff_outside_hours", {**values, "opening_day": weekday_name(opening.weekday(), slots)}


def handoff_reason(tracker: Tracker) -> str:
    """The reason attendants see: set by the AI (slot), else from what the customer asked."""
    reason = tracker.get_slot("handoff_reason")
    if reason:
        return str(reason)[:200]
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    return team_text(REASON_RESPONSES_BY_INTENT.get(intent, DEFAULT_HANDOFF_REASON))


class ActionRequestHandoff(Action):
    """Moves the conversation to `waiting`, pushes to attendants, and pauses the assistant."""

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
        result = await database.run(
            handoff.request_handoff, database, tracker.sender_id, reason, handoff.timeouts_from(settings), now
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
        return [SlotSet("handoff_reason", None), ConversationPaused()]

    async def _say_holding_message(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, settings: Settings, database, now: float
    ) -> None:
        hours = parse_business_hours(settings.business_hours, settings.business_timezone)
        moment = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc)
        if not hours.is_open(moment):
            response, values = outside_hours_response(hours, moment, tracker.current_slot_values())
        else:
            rows = await database.run(
                database.execute, "SELECT COUNT(*) AS waiting FROM conversations WHERE status = 'waiting'"
            )
            response, values = holding_response(int(rows[0]["waiting"]))
        dispatcher.utter_message(response=response, **values)
