"""The end of a booking: store a confirmed request and tell attendants, or forget it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.attendant.alerts import courtesy_push, scheduling_push, team_text
from supportdesk.attendant.push import PushSender
from supportdesk.messaging.inbox import has_written
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.responses import get_responses
from supportdesk.platform.settings import Settings, get_settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling.appointments import create_request
from supportdesk.scheduling.services import load_services, service_titled

logger = logging.getLogger(__name__)

APPOINTMENT_SLOTS = (
    "appointment_time",
    "appointment_time_display",
    "appointment_starts_at",
    "appointment_service",
    "appointment_note",
    "appointment_confirmed",
)
HANDOFF_ACTION = "action_request_handoff"


def reset_events() -> List[Dict[Text, Any]]:
    """Clear every appointment slot so the next booking starts fresh."""
    return [SlotSet(name, None) for name in APPOINTMENT_SLOTS]


class ActionSubmitAppointment(Action):
    """Stores a confirmed request and tells the attendants; a "no" discards it. Resets the slots."""

    def __init__(self, push_sender: Optional[PushSender] = None, settings: Optional[Settings] = None) -> None:
        self._push_sender = push_sender
        self._settings = settings

    def name(self) -> Text:
        """The action name used in rules and stories."""
        return "action_submit_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Store and push when confirmed; answer either way."""
        starts_at = tracker.get_slot("appointment_starts_at")
        if tracker.get_slot("appointment_confirmed") is not True or starts_at is None:
            dispatcher.utter_message(response="utter_appointment_discarded")
            return reset_events()
        database = get_runtime().database
        if not await database.run(has_written, database, tracker.sender_id):
            # Only Rasa may call us, but what it is told is checked too: no request for someone who never wrote.
            logger.warning("appointment.refused_unknown_conversation", extra={"sender": mask_phone(tracker.sender_id)})
            return reset_events()
        await asyncio.to_thread(get_responses)  # the first use loads the domain: not on the event loop
        display = tracker.get_slot("appointment_time_display") or ""
        titled = tracker.get_slot("appointment_service")
        service = service_titled(titled, load_services())  # stored by id: the same service in every language
        appointment = await database.run(
            create_request,
            database,
            tracker.sender_id,
            float(starts_at),
            display,
            service.id if service else (titled or None),
            tracker.get_slot("appointment_note"),
        )
        logger.info("appointment.requested", extra={"sender": mask_phone(tracker.sender_id), "appointment_id": appointment.id})
        customer = appointment.customer_name or mask_phone(tracker.sender_id)
        await courtesy_push(  # a failed push is logged and recorded; the customer still gets the confirmation
            database,
            lambda: self._push_sender or get_runtime().push_sender,
            lambda: scheduling_push(tracker.sender_id, customer, display, service.title(None) if service else titled),
        )
        dispatcher.utter_message(response="utter_appointment_requested")
        if (self._settings or get_settings()).scheduling_handoff:
            # The business wants a person to take every booking over (SCHEDULING_HANDOFF=true).
            reason = team_text("utter_scheduling_handoff_reason", when=display)
            return [*reset_events(), SlotSet("handoff_reason", reason), FollowupAction(HANDOFF_ACTION)]
        return reset_events()


class ActionResetAppointment(Action):
    """Forgets a booking in progress (cancel, or a person takes over)."""

    def name(self) -> Text:
        """The action name used in rules and stories."""
        return "action_reset_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Clear the appointment slots."""
        return reset_events()
