"""The appointment form: read the time in the customer's words, check it, confirm, store, tell attendants."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from supportdesk.attendant.alerts import courtesy_push, scheduling_push, team_text
from supportdesk.attendant.push import PushSender
from supportdesk.messaging.inbox import has_written
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.responses import get_responses
from supportdesk.platform.settings import Settings, get_settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling.appointment_time import TimeOutcome, TimeParse, parse_appointment_time
from supportdesk.scheduling.appointments import create_request
from supportdesk.scheduling.business_hours import BusinessHours, parse_business_hours
from supportdesk.scheduling.wording import date_text, date_time_text, opening_hours_text

logger = logging.getLogger(__name__)

APPOINTMENT_SLOTS = (
    "appointment_time",
    "appointment_time_display",
    "appointment_starts_at",
    "appointment_service",
    "appointment_note",
    "appointment_confirmed",
)
SKIP_WORDS = {"skip", "no", "nope", "none", "nothing", "-", "pular", "nada"}  # what customers type, not what we say
SERVICE_SKIPPED = ""  # stored when the customer would rather not say; the confirmation has a variation for it
MAX_SERVICE_CHARS = 200
HANDOFF_ACTION = "action_request_handoff"
RE_ASK_RESPONSES = {
    TimeOutcome.INVALID: "utter_appointment_time_invalid",
    TimeOutcome.PAST: "utter_appointment_time_past",
    TimeOutcome.TOO_SOON: "utter_appointment_time_too_soon",
    TimeOutcome.TOO_FAR: "utter_appointment_time_too_far",
    TimeOutcome.CLOSED: "utter_appointment_time_closed",
    TimeOutcome.NEEDS_TIME: "utter_appointment_time_needs_hour",
}
NEEDS_HOUR_RESPONSE = RE_ASK_RESPONSES[TimeOutcome.NEEDS_TIME]
MAX_ASKED_CHAIN = 3  # earlier answers read back to find the day an hour is for; more is a new question


def reset_events() -> List[Dict[Text, Any]]:
    """Clear every appointment slot so the next booking starts fresh."""
    return [SlotSet(name, None) for name in APPOINTMENT_SLOTS]


def _business_hours(settings: Settings) -> BusinessHours:
    return parse_business_hours(settings.business_hours, settings.business_timezone)


def texts_asked_for_their_hour(events: Iterable[Mapping[str, Any]]) -> List[str]:
    """The customer's previous messages, oldest first, each answered by asking for its day's hour.

    "friday" (→ "Friday works: what time?") then "in the morning" (→ the same question) make the chain
    that the latest message ("10") completes.
    """
    chain: List[str] = []
    asked: Optional[bool] = None  # None until the latest message (the answer being read) is passed
    for event in reversed(list(events)):
        if event.get("event") == "bot" and asked is not None:
            asked = asked or (event.get("metadata") or {}).get("utter_action") == NEEDS_HOUR_RESPONSE
        elif event.get("event") == "user":
            if asked is False or len(chain) == MAX_ASKED_CHAIN:
                break
            if asked:
                chain.insert(0, event.get("text") or "")
            asked = False
    return chain


class ValidateAppointmentForm(FormValidationAction):
    """Checks the time (future, open, readable) and tidies the service; re-asks with the reason."""

    def __init__(self, settings: Optional[Settings] = None, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> Text:
        """The validator Rasa calls for `appointment_form`."""
        return "validate_appointment_form"

    async def extract_appointment_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Take the time from the message that opened the form ("can I come tomorrow at 3?")."""
        if tracker.get_slot("requested_slot") is not None or tracker.get_slot("appointment_time"):
            return {}
        if (tracker.latest_message or {}).get("intent", {}).get("name") != "schedule_appointment":
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        settings = self._settings or get_settings()
        parsed = parse_appointment_time(
            text, self._now(), _business_hours(settings), language=tracker.get_slot("language")
        )
        return {"appointment_time": text} if parsed.outcome is TimeOutcome.OK else {}

    def validate_appointment_time(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept a readable, future, open time; otherwise say why and ask again."""
        settings = self._settings or get_settings()
        hours = _business_hours(settings)
        parsed = self._parse(str(slot_value or ""), tracker, hours)
        slots = tracker.current_slot_values()
        if parsed.outcome is TimeOutcome.OK:
            display = date_time_text(parsed.when, slots)
            return {
                "appointment_time": display,
                "appointment_time_display": display,
                "appointment_starts_at": parsed.when.timestamp(),
            }
        extra = {}
        if parsed.outcome is TimeOutcome.CLOSED:
            extra["business_hours"] = opening_hours_text(hours, slots)
        if parsed.outcome is TimeOutcome.NEEDS_TIME and parsed.when is not None:
            extra["appointment_day"] = date_text(parsed.when.date(), slots)
        dispatcher.utter_message(response=RE_ASK_RESPONSES[parsed.outcome], **extra)
        return {"appointment_time": None, "appointment_time_display": None, "appointment_starts_at": None}

    def validate_appointment_service(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Keep a short description; "skip" means the customer would rather not say."""
        text = " ".join(str(slot_value or "").split())
        if not text or text.lower().strip(".!") in SKIP_WORDS:
            return {"appointment_service": SERVICE_SKIPPED}
        return {"appointment_service": text[:MAX_SERVICE_CHARS]}

    def _parse(self, text: str, tracker: Tracker, hours: BusinessHours) -> TimeParse:
        """Read `text` in the conversation's language; an hour alone answers the day we just asked about."""
        now, language = self._now(), tracker.get_slot("language")
        asked_day = None
        for earlier_text in texts_asked_for_their_hour(tracker.events):
            earlier = parse_appointment_time(earlier_text, now, hours, language=language, asked_day=asked_day)
            needs_time = earlier.outcome is TimeOutcome.NEEDS_TIME and earlier.when is not None
            asked_day = earlier.when.date() if needs_time else None
        return parse_appointment_time(text, now, hours, language=language, asked_day=asked_day)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), tz=dt.timezone.utc)


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
        service = tracker.get_slot("appointment_service")
        appointment = await database.run(
            create_request,
            database,
            tracker.sender_id,
            float(starts_at),
            display,
            service or None,
            tracker.get_slot("appointment_note"),
        )
        logger.info("appointment.requested", extra={"sender": mask_phone(tracker.sender_id), "appointment_id": appointment.id})
        customer = appointment.customer_name or mask_phone(tracker.sender_id)
        await courtesy_push(  # a failed push is logged and recorded; the customer still gets the confirmation
            database,
            lambda: self._push_sender or get_runtime().push_sender,
            lambda: scheduling_push(tracker.sender_id, customer, display, appointment.service),
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
