"""Actions check what they are told against the database: nothing is queued or booked for someone who never wrote."""

import datetime as dt

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHandoff
from actions.scheduling import ActionSubmitAppointment, reset_events
from supportdesk.attendant.alerts import register_device
from supportdesk.attendant.push import PushResult
from supportdesk.platform.settings import Settings
from supportdesk.runtime import get_runtime
from tests.actions.conftest import customer_wrote

STRANGER = "15550009999"  # never wrote: only a forged call could name them
MONDAY_10_UTC = dt.datetime(2024, 5, 13, 10, 0, tzinfo=dt.timezone.utc).timestamp()
CUSTOMER_TABLES = ("conversations", "handoff_requests", "appointments", "push_log", "stream_events", "outbox_messages")


class RecordingPushSender:
    def __init__(self) -> None:
        self.sent = []

    async def send(self, token, message):
        self.sent.append(message)
        return PushResult(token=token, outcome="sent")


def tracker(sender: str, slots=None) -> Tracker:
    return Tracker(
        sender, slots or {}, {"intent": {"name": "request_human"}, "text": "a person please"}, [], False, None, {}, "action_listen"
    )


def rows_about(sender: str) -> dict:
    database = get_runtime().database
    counts = {}
    for table in CUSTOMER_TABLES:
        column = "id" if table == "conversations" else "conversation_id"
        counts[table] = database.execute(f"SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?", (sender,))[0]["n"]
    return counts


def nothing_about(sender: str) -> dict:
    return {table: 0 for table in CUSTOMER_TABLES}


async def test_a_handoff_for_someone_who_never_wrote_queues_nothing_and_pushes_nobody(caplog):
    register_device(get_runtime().database, "token-ana-phone-000001", "android", "ana")
    pushes = RecordingPushSender()
    dispatcher = CollectingDispatcher()
    settings = Settings(business_timezone="UTC", business_hours="mon-sun 00:00-24:00")
    events = await ActionRequestHandoff(settings, pushes, clock=lambda: MONDAY_10_UTC).run(dispatcher, tracker(STRANGER), {})
    assert events == [SlotSet("handoff_reason", None)]
    assert dispatcher.messages == [] and pushes.sent == []
    assert rows_about(STRANGER) == nothing_about(STRANGER)
    [refused] = [r for r in caplog.records if r.getMessage() == "handoff.refused_unknown_conversation"]
    assert refused.sender == "•••••••9999"


async def test_the_same_handoff_is_queued_once_they_have_written():
    customer_wrote(STRANGER)
    events = await ActionRequestHandoff(Settings(business_hours="mon-sun 00:00-24:00"), RecordingPushSender()).run(
        CollectingDispatcher(), tracker(STRANGER), {}
    )
    assert events[-1] == {"event": "slot", "timestamp": None, "name": "handoff_waiting", "value": True}  # no pause
    assert get_runtime().database.execute("SELECT status FROM conversations WHERE id = ?", (STRANGER,)) == [{"status": "waiting"}]


async def test_an_appointment_for_someone_who_never_wrote_is_not_stored(caplog):
    register_device(get_runtime().database, "token-ana-phone-000001", "android", "ana")
    pushes = RecordingPushSender()
    dispatcher = CollectingDispatcher()
    slots = {
        "appointment_confirmed": True,
        "appointment_starts_at": dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp(),
        "appointment_time_display": "Tuesday 14 May at 15:00",
        "appointment_service": "call 555 0100 to confirm",
    }
    events = await ActionSubmitAppointment(pushes).run(dispatcher, tracker(STRANGER, slots), {})
    assert events == reset_events()
    assert dispatcher.messages == [] and pushes.sent == []
    assert rows_about(STRANGER) == nothing_about(STRANGER)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == ["appointment.refused_unknown_conversation"]
