"""`action_request_handoff`: queue the customer for a person, tell the attendants, say one holding message.

The conversation's status in the database is what silences the bot at the send boundary;
the tracker is paused too, so the dialogue history says a person took over.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.handoff import state as handoff
from supportdesk.attendant.alerts import handoff_push, notify
from supportdesk.scheduling.business_hours import BusinessHours, parse_business_hours
from supportdesk.attendant.push import PushSender
from supportdesk.platform.redaction import mask_phone
from supportdesk.runtime import get_runtime
from supportdesk.platform.settings import Settings, get_settings

logger = logging.getLogger(__name__)

ACTION_NAME = "action_request_handoff"
REASONS_BY_INTENT = {
    "request_human": "asked for a person",
    "place_order": "placed an order",
    "cancel_appointment": "wants to cancel an appointment",
    "nlu_fallback": "the assistant could not help",
}
MINUTES_PER_WAITING_CUSTOMER = 3  # a rough expectation, said as "about N minutes"


def expected_wait_text(customers_ahead: int) -> str:
    """What the holding message promises, from the queue in front of the customer."""
    if customers_ahead <= 1:
        return "a few minutes"
    return f"about {customers_ahead * MINUTES_PER_WAITING_CUSTOMER} minutes"


def opening_text(hours: BusinessHours, now: dt.datetime) -> str:
    """When the team is next in, e.g. `Mon 09:00` (or `09:00` later today)."""
    opening = hours.next_opening(now)
    local_now = now.astimezone(hours.timezone)
    if opening.date() == local_now.date():
        return opening.strftime("%H:%M")
    if opening.date() == local_now.date() + dt.timedelta(days=1):
        return "tomorrow at " + opening.strftime("%H:%M")
    return opening.strftime("%A at %H:%M")


def handoff_reason(tracker: Tracker) -> str:
    """The reason attendants see: set by the AI (slot), else from what the customer asked."""
    reason = tracker.get_slot("handoff_reason")
    if reason:
        return str(reason)[:200]
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    return REASONS_BY_INTENT.get(intent, "asked for a person")


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
        now = self._clock()
        reason = handoff_reason(tracker)
        result = await database.run(
            handoff.request_handoff, database, tracker.sender_id, reason, handoff.timeouts_from(settings), now
        )
        logger.info(
            "handoff.requested",
            extra={"sender": mask_phone(tracker.sender_id), "reason": reason, "queued": result.changed},
        )
        if result.changed:
            await notify(database, self._push_sender or get_runtime().push_sender, handoff_push(result.conversation))
            await self._say_holding_message(dispatcher, settings, database, now)
        return [SlotSet("handoff_reason", None), ConversationPaused()]

    async def _say_holding_message(self, dispatcher: CollectingDispatcher, settings: Settings, database, now: float) -> None:
        hours = parse_business_hours(settings.business_hours, settings.business_timezone)
        moment = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc)
        if not hours.is_open(moment):
            dispatcher.utter_message(response="utter_handoff_outside_hours", opening_time=opening_text(hours, moment))
            return
        rows = await database.run(
            database.execute, "SELECT COUNT(*) AS waiting FROM conversations WHERE status = 'waiting'"
        )
        dispatcher.utter_message(response="utter_handoff_queued", expected_wait=expected_wait_text(int(rows[0]["waiting"])))
