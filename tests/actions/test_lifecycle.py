"""`action_opt_out` / `action_opt_in` (confirmed once) and `action_record_satisfaction`."""

import time

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.lifecycle import ActionOptIn, ActionOptOut, ActionRecordSatisfaction
from supportdesk.handoff.lifecycle import resolve
from supportdesk.messaging.conversations import load_conversation
from supportdesk.runtime import get_runtime
from tests.actions.conftest import CUSTOMER
from tests.actions.said import said

OPTED_OUT = (
    "utter_opted_out",
    "Done: you won't get reminders or notices from us anymore. You can still write to us here any time. "
    "To receive them again, send START.",
)


def tracker(intent: str, text: str = "") -> Tracker:
    return Tracker(CUSTOMER, {}, {"intent": {"name": intent, "confidence": 0.99}, "text": text}, [], False, None, {}, "action_listen")


async def run(action, intent: str, text: str = ""):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(intent, text), {})
    return events, said(dispatcher)


def opted_out() -> bool:
    database = get_runtime().database
    return load_conversation(database, CUSTOMER).opted_out


async def test_stop_opts_out_and_is_confirmed_once_then_start_opts_back_in():
    assert await run(ActionOptOut(), "opt_out", "STOP") == ([], [OPTED_OUT])
    assert opted_out() is True
    assert await run(ActionOptOut(), "opt_out", "PARAR") == ([], [])
    events, spoken = await run(ActionOptIn(), "opt_in", "START")
    assert [name for name, _ in spoken] == ["utter_opted_in"] and opted_out() is False
    assert await run(ActionOptIn(), "opt_in", "VOLTAR") == ([], [])


async def test_a_satisfaction_answer_is_recorded_on_the_open_question_once():
    database = get_runtime().database
    resolve(database, CUSTOMER, "ana", False, True, time.time())
    events, spoken = await run(ActionRecordSatisfaction(), "rate_satisfaction_good")
    assert [name for name, _ in spoken] == ["utter_satisfaction_thanks"]
    await run(ActionRecordSatisfaction(), "rate_satisfaction_bad")  # no open question any more: not counted
    rows = database.execute("SELECT attendant_id, score FROM satisfaction")
    assert rows == [{"attendant_id": "ana", "score": 5}]
