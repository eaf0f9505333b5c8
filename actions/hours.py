"""`action_tell_hours`: "when are you open?" answered from `BUSINESS_HOURS`, without OpenAI.

The weekly hours come from the one setting (in the customer's words, `scheduling.wording`), followed
by whether the business is open right now and when it opens again.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.handoff.holding import business_hours_of, moment_of
from supportdesk.platform.responses import get_responses
from supportdesk.platform.settings import Settings, get_settings
from supportdesk.scheduling.business_hours import REOPENS_TODAY, REOPENS_TOMORROW, BusinessHours
from supportdesk.scheduling.wording import clock_text, opening_hours_text, weekday_name

ACTION_NAME = "action_tell_hours"
CLOSED_RESPONSES = {REOPENS_TODAY: "utter_hours_closed_until_today", REOPENS_TOMORROW: "utter_hours_closed_until_tomorrow"}


def hours_answer(hours: BusinessHours, now: float, slots: Optional[Mapping[str, Any]] = None) -> Tuple[str, Dict[str, Any]]:
    """The response and values that tell the weekly hours and whether the business is open at `now`."""
    moment = moment_of(now)
    values: Dict[str, Any] = {"business_hours": opening_hours_text(hours, slots)}
    interval = hours.open_interval(moment)
    if interval is not None:
        return "utter_hours_open_now", {**values, "closing_time": interval.end_text()}
    opening, when = hours.reopening(moment)
    values["opening_time"] = clock_text(opening)
    if when in CLOSED_RESPONSES:
        return CLOSED_RESPONSES[when], values
    return "utter_hours_closed_until_day", {**values, "opening_day": weekday_name(opening.weekday(), slots)}


class ActionTellHours(Action):
    """Says the opening hours in the customer's language."""

    def __init__(self, settings: Optional[Settings] = None, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> Text:
        """The action name used in the domain and rules."""
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Answer with the hours from `BUSINESS_HOURS`."""
        hours = business_hours_of(self._settings or get_settings())
        await asyncio.to_thread(get_responses)  # the first use loads the domain: not on the event loop
        response, values = hours_answer(hours, self._clock(), tracker.current_slot_values())
        dispatcher.utter_message(response=response, **values)
        return []
