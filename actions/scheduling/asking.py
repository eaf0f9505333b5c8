"""The form's questions: the service with the business's list, the time unless a re-ask just asked it."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.scheduling.services import load_services

FORM_NAME = "appointment_form"
# Each of these ends with its own question for the time ("At what time?"): asking again would repeat it.
TIME_REASKS = frozenset({
    "utter_appointment_time_invalid",
    "utter_appointment_time_needs_hour",
    "utter_appointment_time_too_soon",
    "utter_appointment_time_too_far",
    "utter_appointment_time_past",
    "utter_appointment_time_closed",
})


def service_buttons(language: Any) -> List[Dict[str, str]]:
    """One button per service in the conversation's language; its title is also what it sends back."""
    return [{"title": service.title(language), "payload": service.title(language)} for service in load_services()]


def said_this_turn(tracker: Tracker) -> List[str]:
    """The responses the form already sent in its current run (after its own action event)."""
    names: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == FORM_NAME:
            return names
        if event.get("event") in ("action", "user"):
            return []
        if event.get("event") == "bot":
            names.append((event.get("metadata") or {}).get("utter_action") or "")
    return []


class ActionAskAppointmentService(Action):
    """Asks what the appointment is for, with the business's services as a list (or free text without one)."""

    def name(self) -> Text:
        """The name the form looks for before `utter_ask_appointment_service`."""
        return "action_ask_appointment_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Send the question with one choice per service."""
        buttons = service_buttons(tracker.get_slot("language"))
        if buttons:
            dispatcher.utter_message(response="utter_ask_appointment_service", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_appointment_service_free_text")
        return []


class ActionAskAppointmentTime(Action):
    """Asks for the day and time, unless the validator's re-ask (with its reason) just did."""

    def name(self) -> Text:
        """The name the form looks for before `utter_ask_appointment_time`."""
        return "action_ask_appointment_time"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Ask, once."""
        if not TIME_REASKS.intersection(said_this_turn(tracker)):
            dispatcher.utter_message(response="utter_ask_appointment_time")
        return []
