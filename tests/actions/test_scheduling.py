"""The appointment form's validator and the submit action, with a fixed clock."""

import datetime as dt

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.scheduling import ActionResetAppointment, ActionSubmitAppointment, ValidateAppointmentForm, reset_events
from supportdesk.scheduling.appointments import list_appointments
from supportdesk.attendant.alerts import register_device
from supportdesk.attendant.push import PushResult
from supportdesk.runtime import get_runtime
from supportdesk.platform.settings import Settings

CUSTOMER = "447700900123"
MONDAY_10_UTC = dt.datetime(2024, 5, 13, 10, 0, tzinfo=dt.timezone.utc).timestamp()
SETTINGS = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00")


def validator() -> ValidateAppointmentForm:
    return ValidateAppointmentForm(SETTINGS, clock=lambda: MONDAY_10_UTC)


def tracker(slots=None, intent="schedule_appointment", text="", requested=None) -> Tracker:
    return Tracker(
        CUSTOMER,
        {"requested_slot": requested, **(slots or {})},
        {"intent": {"name": intent, "confidence": 0.95}, "text": text},
        [],
        False,
        None,
        {"name": "appointment_form"},
        "action_listen",
    )


def test_a_readable_open_time_is_kept_with_its_display_and_timestamp():
    dispatcher = CollectingDispatcher()
    slots = validator().validate_appointment_time("tomorrow at 3pm", dispatcher, tracker(), {})
    assert dispatcher.messages == []
    assert slots["appointment_time_display"] == slots["appointment_time"]
    assert "14 May" in slots["appointment_time_display"] and "15:00" in slots["appointment_time_display"]
    assert slots["appointment_starts_at"] == dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()


def test_each_problem_is_reasked_with_its_own_reason():
    cases = {
        "yesterday at 2pm": "utter_appointment_time_past",
        "saturday at 10am": "utter_appointment_time_closed",
        "blue elephants": "utter_appointment_time_invalid",
        "friday": "utter_appointment_time_needs_hour",
    }
    for text, response in cases.items():
        dispatcher = CollectingDispatcher()
        slots = validator().validate_appointment_time(text, dispatcher, tracker(), {})
        assert slots["appointment_time"] is None, text
        assert [m["response"] for m in dispatcher.messages] == [response], text
    closed = CollectingDispatcher()
    validator().validate_appointment_time("saturday at 10am", closed, tracker(), {})
    assert closed.messages[0]["business_hours"] == "Mon–Fri 09:00–18:00"


async def test_the_opening_message_prefills_the_time_only_when_it_reads_as_one():
    form = validator()
    opening = tracker(text="can i come tomorrow at 3pm?")
    assert await form.extract_appointment_time(CollectingDispatcher(), opening, {}) == {
        "appointment_time": "can i come tomorrow at 3pm?"
    }
    vague = tracker(text="i want to book an appointment")
    assert await form.extract_appointment_time(CollectingDispatcher(), vague, {}) == {}
    asked = tracker(text="tomorrow at 3pm", requested="appointment_service")
    assert await form.extract_appointment_time(CollectingDispatcher(), asked, {}) == {}


def test_service_skip_and_tidy():
    form = validator()
    assert form.validate_appointment_service("Skip", CollectingDispatcher(), tracker(), {}) == {
        "appointment_service": "not specified"
    }
    assert form.validate_appointment_service("  hair   cut ", CollectingDispatcher(), tracker(), {}) == {
        "appointment_service": "hair cut"
    }


class RecordingPushSender:
    def __init__(self):
        self.sent = []

    async def send(self, token, message):
        self.sent.append(message)
        return PushResult(token=token, outcome="sent")


async def test_confirmed_request_is_stored_pushed_and_slots_reset():
    database = get_runtime().database
    register_device(database, "token-ana-phone-000001", "android", "ana")
    pushes = RecordingPushSender()
    starts_at = dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()
    slots = {
        "appointment_confirmed": True,
        "appointment_starts_at": starts_at,
        "appointment_time_display": "Tue 14 May at 15:00",
        "appointment_service": "haircut",
    }
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitAppointment(pushes).run(dispatcher, tracker(slots, intent="affirm"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_appointment_requested"]
    assert events == reset_events()
    [stored] = list_appointments(database, "requested")
    assert (stored.conversation_id, stored.starts_at, stored.service) == (CUSTOMER, starts_at, "haircut")
    assert [(m.type, m.data["conversation_id"]) for m in pushes.sent] == [("scheduling", CUSTOMER)]
    assert "Tue 14 May at 15:00 (haircut)" in pushes.sent[0].body


async def test_declined_confirmation_stores_nothing():
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitAppointment(RecordingPushSender()).run(
        dispatcher, tracker({"appointment_confirmed": False, "appointment_starts_at": 1.0}, intent="deny"), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_appointment_discarded"]
    assert events == reset_events()
    assert list_appointments(get_runtime().database) == []


async def test_reset_clears_every_appointment_slot():
    events = await ActionResetAppointment().run(CollectingDispatcher(), tracker(), {})
    assert SlotSet("appointment_time", None) in events and SlotSet("appointment_confirmed", None) in events


async def test_a_business_can_have_a_person_take_over_every_booking():
    starts_at = dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()
    slots = {"appointment_confirmed": True, "appointment_starts_at": starts_at, "appointment_time_display": "Tue 14 May at 15:00"}
    settings = Settings(scheduling_handoff=True)
    events = await ActionSubmitAppointment(RecordingPushSender(), settings).run(
        CollectingDispatcher(), tracker(slots, intent="affirm"), {}
    )
    assert events[-2:] == [SlotSet("handoff_reason", "appointment request: Tue 14 May at 15:00"),
                           FollowupAction("action_request_handoff")]
    plain = await ActionSubmitAppointment(RecordingPushSender(), Settings()).run(
        CollectingDispatcher(), tracker(slots, intent="affirm"), {}
    )
    assert plain == reset_events()
