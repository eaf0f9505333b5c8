"""The appointment form's validator: what each answer is about, whatever question was asked.

- The time: read in the customer's words, checked (future, open, bookable), re-asked with the reason; a
  day without an hour asks for the hour, offering the free ones. A date or time in the message that
  opened the form is kept, or refused out loud.
- The service: one of the business's (`data/services.yml`), typed freely or picked from the list; never a
  time or a date; anything else is re-asked with the list.
- The confirmation: yes or no in either language (or the buttons); anything else is asked again.
- A correction at any step ("actually tuesday at 4pm", "na verdade coloração") updates what it is about.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from supportdesk.platform.settings import Settings, get_settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling import time_phrases
from supportdesk.scheduling.answers import is_correction, mentions_time, yes_or_no
from supportdesk.scheduling.appointment_time import TimeOutcome, TimeParse, parse_appointment_time
from supportdesk.scheduling.business_hours import BusinessHours, parse_business_hours
from supportdesk.scheduling.free_slots import free_slots, part_of_day, taken_starts
from supportdesk.scheduling.services import load_services, match_service
from supportdesk.scheduling.wording import clock_text, date_text, date_time_text, opening_hours_text

logger = logging.getLogger(__name__)

FORM_NAME = "appointment_form"
TIME, SERVICE, CONFIRMED = "appointment_time", "appointment_service", "appointment_confirmed"
# Messages that always leave the form for their own rules (data/rules/scheduling.yml and the features').
LEAVES_THE_FORM = frozenset({"cancel_appointment", "request_human", "share_media", "share_location", "place_order"})
# Messages that leave it unless they answer the question asked ("cut and blow dry" read as a question).
CHAT = frozenset({"ask_question", "greet", "goodbye", "thank", "bot_challenge", "help"})
SKIP_WORDS = {"skip", "no", "nope", "none", "nothing", "-", "pular", "nada"}  # only without a list of services
SERVICE_SKIPPED = ""  # stored when the customer would rather not say; the confirmation has a variation for it
MAX_SERVICE_CHARS = 200
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


def answers_the_form(tracker: Tracker) -> bool:
    """True when the form runs on the customer's latest message (not resumed after another action)."""
    form_seen = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action":
            if event.get("name") == FORM_NAME and not form_seen:
                form_seen = True  # the form's own run, which Rasa adds before asking us
                continue
            return False
    return tracker.latest_action_name == "action_listen"


def _message(tracker: Tracker) -> tuple:
    latest = tracker.latest_message or {}
    return (latest.get("text") or "").strip(), (latest.get("intent") or {}).get("name"), tracker.get_slot("requested_slot")


class ValidateAppointmentForm(FormValidationAction):
    """Reads each answer for what it is about, checks it, and re-asks with the reason."""

    def __init__(self, settings: Optional[Settings] = None, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> Text:
        """The validator Rasa calls for `appointment_form`."""
        return "validate_appointment_form"

    async def extract_appointment_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A time in the opening message, a correction at a later step, a time read as a question."""
        text, intent, requested = _message(tracker)
        if not answers_the_form(tracker) or intent in LEAVES_THE_FORM or not mentions_time(text):
            return {}
        if requested is None and (intent != "schedule_appointment" or tracker.get_slot(TIME)):
            return {}
        if requested == TIME and intent not in CHAT:
            return {}  # the slot's from_text mapping takes the answer
        if requested in (SERVICE, CONFIRMED) and (
            time_phrases.ONLY_HOUR.fullmatch(text) or (requested == CONFIRMED and yes_or_no(text) is not None)
        ):
            return {}  # a bare number or a yes is no new time
        parsed = self._parse(text, tracker, self._hours())
        return {} if parsed.outcome is TimeOutcome.INVALID else {TIME: text}

    async def validate_appointment_time(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept a readable, future, open time; otherwise say why and ask again (with free hours)."""
        hours = self._hours()
        parsed = self._parse(str(slot_value or ""), tracker, hours)
        slots = tracker.current_slot_values()
        if parsed.outcome is TimeOutcome.OK:
            display = date_time_text(parsed.when, slots)
            return {TIME: display, "appointment_time_display": display, "appointment_starts_at": parsed.when.timestamp()}
        cleared = {TIME: None, "appointment_time_display": None, "appointment_starts_at": None}
        text = str(slot_value or "")
        if parsed.outcome is TimeOutcome.INVALID and not mentions_time(text) and match_service(text, load_services()):
            return cleared  # "a haircut" at the time question: the service is taken, the time simply asked again
        extra: Dict[str, Any] = {}
        if parsed.outcome is TimeOutcome.CLOSED:
            extra["business_hours"] = opening_hours_text(hours, slots)
        if parsed.outcome is TimeOutcome.NEEDS_TIME and parsed.when is not None:
            extra["appointment_day"] = date_text(parsed.when.date(), slots)
            texts = [*texts_asked_for_their_hour(tracker.events), text]
            buttons = await self._free_hour_buttons(parsed.when, hours, texts)
            if buttons:
                extra["buttons"] = buttons
        dispatcher.utter_message(response=RE_ASK_RESPONSES[parsed.outcome], **extra)
        return cleared

    async def extract_appointment_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The service answered, named with the time, or corrected at the confirmation."""
        text, intent, requested = _message(tracker)
        if not answers_the_form(tracker) or intent in LEAVES_THE_FORM:
            return {}
        if requested == SERVICE:
            return self._answer_service(text, intent, tracker, dispatcher)
        if requested == CONFIRMED and not is_correction(text):
            return {}
        if requested in (None, TIME) and intent in CHAT:
            return {}
        service = match_service(text, load_services())
        return {SERVICE: service.title(tracker.get_slot("language"))} if service else {}

    def validate_appointment_service(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A service of the list is kept as titled; without a list, a short text ("skip": not said)."""
        if slot_value is None or load_services():
            return {SERVICE: slot_value}
        text = " ".join(str(slot_value).split())
        if not text or text.lower().strip(".!") in SKIP_WORDS:
            return {SERVICE: SERVICE_SKIPPED}
        return {SERVICE: text[:MAX_SERVICE_CHARS]}

    async def extract_appointment_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Yes or no (typed in either language, or the buttons); a correction; else ask again."""
        text, intent, requested = _message(tracker)
        if requested != CONFIRMED or not answers_the_form(tracker) or intent in LEAVES_THE_FORM:
            return {}
        if text.startswith("/") and intent in ("affirm", "deny"):
            return {CONFIRMED: intent == "affirm"}  # a button: its payload
        answer = yes_or_no(text)
        if answer is not None:
            return {CONFIRMED: answer}
        if tracker.slots.get(TIME) == text or (is_correction(text) and match_service(text, load_services())):
            return {}  # a correction: the changed request is confirmed afresh
        if intent == "ask_question" and text.endswith("?"):
            return {}  # answered by the rule for questions; the form asks again after it
        dispatcher.utter_message(response="utter_appointment_confirmation_unclear")
        return {CONFIRMED: None}

    def _answer_service(
        self, text: str, intent: Optional[str], tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> Dict[Text, Any]:
        services = load_services()
        if tracker.slots.get(TIME) == text:
            return {}  # a time, read as a correction of the time: never the service
        if not services:
            return {} if intent in CHAT else {SERVICE: text}
        service = match_service(text, services)
        if service and not (intent in CHAT and text.endswith("?")):
            return {SERVICE: service.title(tracker.get_slot("language"))}
        if intent in CHAT or text.endswith("?"):
            return {}  # a question or small talk: its rule answers, then the form asks again
        dispatcher.utter_message(response="utter_appointment_service_unknown")
        return {SERVICE: None}

    async def _free_hour_buttons(self, day_start: dt.datetime, hours: BusinessHours, texts: List[str]) -> List[dict]:
        """The free hours of that day (in the part of the day named last) as choices."""
        period = next((found for found in map(part_of_day, reversed(texts)) if found), None)
        database = get_runtime().database
        day_end = day_start + dt.timedelta(days=1)
        try:
            taken = await database.run(taken_starts, database, day_start.timestamp(), day_end.timestamp())
        except Exception as error:  # the choices are a courtesy: the question for the hour goes out anyway
            logger.warning("appointment.free_hours_failed", extra={"error": type(error).__name__})
            return []
        slots = free_slots(day_start.date(), hours, self._now(), set(taken), period)
        return [{"title": clock_text(slot), "payload": clock_text(slot)} for slot in slots]

    def _parse(self, text: str, tracker: Tracker, hours: BusinessHours) -> TimeParse:
        """Read `text` in the conversation's language; an hour alone answers the day asked about (or booked)."""
        now, language = self._now(), tracker.get_slot("language")
        asked_day = None
        for earlier_text in texts_asked_for_their_hour(tracker.events):
            earlier = parse_appointment_time(earlier_text, now, hours, language=language, asked_day=asked_day)
            needs_time = earlier.outcome is TimeOutcome.NEEDS_TIME and earlier.when is not None
            asked_day = earlier.when.date() if needs_time else None
        booked = tracker.get_slot("appointment_starts_at")
        if asked_day is None and booked is not None and tracker.get_slot("requested_slot") in (SERVICE, CONFIRMED):
            asked_day = dt.datetime.fromtimestamp(float(booked), tz=hours.timezone).date()  # "actually 4pm"
        return parse_appointment_time(text, now, hours, language=language, asked_day=asked_day)

    def _hours(self) -> BusinessHours:
        settings = self._settings or get_settings()
        return parse_business_hours(settings.business_hours, settings.business_timezone)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), tz=dt.timezone.utc)
