"""Opt-out / opt-in (STOP, PARAR / START, VOLTAR) and the answer to the satisfaction question."""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from supportdesk.handoff.lifecycle import record_satisfaction, set_opted_out
from supportdesk.platform.redaction import mask_phone
from supportdesk.runtime import get_runtime

logger = logging.getLogger(__name__)

SCORES = {"rate_satisfaction_bad": 1, "rate_satisfaction_okay": 3, "rate_satisfaction_good": 5}


async def _set_opt_out(
    dispatcher: CollectingDispatcher, tracker: Tracker, opted_out: bool, response: str
) -> List[Dict[Text, Any]]:
    """Store the choice; confirm it only when it changed (a second STOP says nothing)."""
    database = get_runtime().database
    changed = await database.run(set_opted_out, database, tracker.sender_id, opted_out, time.time())
    if changed is not None:
        logger.info("customer.opt_changed", extra={"conversation": mask_phone(tracker.sender_id), "opted_out": opted_out})
        dispatcher.utter_message(response=response)
    return []


class ActionOptOut(Action):
    """STOP / PARAR: no template or reminder until the customer opts back in."""

    def name(self) -> Text:
        """As in domain/lifecycle.yml."""
        return "action_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Mark the customer opted out (confirmed once)."""
        return await _set_opt_out(dispatcher, tracker, True, "utter_opted_out")


class ActionOptIn(Action):
    """START / VOLTAR: templates and reminders may reach the customer again."""

    def name(self) -> Text:
        """As in domain/lifecycle.yml."""
        return "action_opt_in"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Clear the opt-out (confirmed once)."""
        return await _set_opt_out(dispatcher, tracker, False, "utter_opted_in")


class ActionRecordSatisfaction(Action):
    """Record the answer to the satisfaction question (a reply button) and thank the customer."""

    def name(self) -> Text:
        """As in domain/lifecycle.yml."""
        return "action_record_satisfaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Store the score on the open question, if any; thank the customer either way."""
        score = SCORES.get((tracker.latest_message.get("intent") or {}).get("name"))
        if score is not None:
            database = get_runtime().database
            await database.run(record_satisfaction, database, tracker.sender_id, score, time.time())
        dispatcher.utter_message(response="utter_satisfaction_thanks")
        return []
