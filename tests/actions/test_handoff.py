"""`action_request_handoff`: queues once, pushes to every device, one holding message, pauses."""

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHandoff, expected_wait_text, opening_text
from supportdesk.attendant.alerts import register_device
from supportdesk.scheduling.business_hours import parse_business_hours
from supportdesk.messaging.conversations import load_conversation
from supportdesk.attendant.push import PushResult
from supportdesk.runtime import get_runtime
from supportdesk.platform.settings import Settings

CUSTOMER = "447700900123"
MONDAY_10_UTC = dt.datetime(2024, 5, 13, 10, 0, tzinfo=dt.timezone.utc).timestamp()
SUNDAY_10_UTC = dt.datetime(2024, 5, 12, 10, 0, tzinfo=dt.timezone.utc).timestamp()


class RecordingPushSender:
    def __init__(self) -> None:
        self.sent = []

    async def send(self, token, message):
        self.sent.append((token, message))
        return PushResult(token=token, outcome="sent", message_id="projects/x/messages/1")


def tracker(intent: str = "request_human", reason: str = None) -> Tracker:
    return Tracker(
        CUSTOMER,
        {"handoff_reason": reason},
        {"intent": {"name": intent, "confidence": 0.99}, "text": "can i talk to a person"},
        [],
        False,
        None,
        {},
        "action_listen",
    )


async def run(now: float, pushes: RecordingPushSender, **kwargs):
    settings = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00")
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHandoff(settings, pushes, clock=lambda: now).run(dispatcher, tracker(**kwargs), {})
    return dispatcher, events


async def test_queues_pushes_every_device_and_says_the_holding_message():
    database = get_runtime().database
    register_device(database, "token-ana-phone-000001", "android", "ana")
    register_device(database, "token-bruno-phone-000002", "ios", "bruno")
    pushes = RecordingPushSender()
    dispatcher, events = await run(MONDAY_10_UTC, pushes)
    assert load_conversation(database, CUSTOMER).status == "waiting"
    assert sorted(token for token, _ in pushes.sent) == ["token-ana-phone-000001", "token-bruno-phone-000002"]
    message = pushes.sent[0][1]
    assert message.data == {"type": "handoff", "conversation_id": CUSTOMER}
    assert CUSTOMER not in message.title + message.body
    assert [(m["response"], m.get("expected_wait")) for m in dispatcher.messages] == [
        ("utter_handoff_queued", "a few minutes")
    ]
    assert events == [SlotSet("handoff_reason", None), ConversationPaused()]
    logged = database.execute("SELECT kind, state FROM push_log ORDER BY id")
    assert [(row["kind"], row["state"]) for row in logged] == [("handoff", "sent"), ("handoff", "sent")]


async def test_second_request_while_waiting_says_and_pushes_nothing_more():
    pushes = RecordingPushSender()
    await run(MONDAY_10_UTC, pushes)
    dispatcher, events = await run(MONDAY_10_UTC + 60, pushes)
    assert dispatcher.messages == []
    assert ConversationPaused() in events
    database = get_runtime().database
    assert [row["state"] for row in database.execute("SELECT state FROM push_log")] == ["no_devices"]


async def test_outside_business_hours_says_when_the_team_is_back():
    dispatcher, _ = await run(SUNDAY_10_UTC, RecordingPushSender())
    assert [(m["response"], m.get("opening_time")) for m in dispatcher.messages] == [
        ("utter_handoff_outside_hours", "tomorrow at 09:00")
    ]


async def test_the_ai_reason_and_the_intent_reason_reach_the_attendants():
    pushes = RecordingPushSender()
    register_device(get_runtime().database, "token-ana-phone-000001", "android", "ana")
    await run(MONDAY_10_UTC, pushes, intent="place_order")
    assert load_conversation(get_runtime().database, CUSTOMER).handoff_reason == "placed an order"
    assert "placed an order" in pushes.sent[0][1].body


@pytest.mark.parametrize("ahead, text", [(0, "a few minutes"), (1, "a few minutes"), (4, "about 12 minutes")])
def test_expected_wait_grows_with_the_queue(ahead, text):
    assert expected_wait_text(ahead) == text


def test_opening_text_names_the_day():
    hours = parse_business_hours("mon-fri 09:00-18:00", "UTC")
    saturday = dt.datetime(2024, 5, 11, 12, 0, tzinfo=dt.timezone.utc)
    monday_early = dt.datetime(2024, 5, 13, 7, 0, tzinfo=dt.timezone.utc)
    assert opening_text(hours, saturday) == "Monday at 09:00"
    assert opening_text(hours, monday_early) == "09:00"
