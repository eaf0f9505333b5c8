"""The appointment form's validator and the submit action, with a fixed clock."""

import datetime as dt

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.scheduling import ActionResetAppointment, ActionSubmitAppointment, ValidateAppointmentForm, reset_events
from supportdesk.attendant.alerts import register_device
from supportdesk.attendant.push import PushResult
from supportdesk.platform.responses import get_responses
from supportdesk.platform.settings import Settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling.appointments import list_appointments
from tests.actions.said import said

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
    assert slots["appointment_time_display"] == slots["appointment_time"] == "Tuesday 14 May at 15:00"
    assert slots["appointment_starts_at"] == dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()


def test_each_problem_is_reasked_with_its_own_reason_in_words():
    cases = {
        "yesterday at 2pm": (
            "utter_appointment_time_past", "That time has already passed ⏰ Please pick a day and time from now on."
        ),
        "saturday at 10am": (
            "utter_appointment_time_closed",
            "We're closed at that time 🙏 Our hours are Monday–Friday 09:00–18:00. What other day or time works for you?",
        ),
        "blue elephants": (
            "utter_appointment_time_invalid",
            "Sorry, I couldn't understand that date 😅 Could you write it like *friday at 10am* or *25/12 at 2pm*?",
        ),
        "friday": (
            "utter_appointment_time_needs_hour", "Friday 17 May works 👍 At what time? For example: *10am* or *3pm*."
        ),
        "in 10 minutes": (
            "utter_appointment_time_too_soon",
            "That's a bit too soon for us to get ready ⏰ Could you pick a time at least half an hour from now?",
        ),
    }
    for text, expected in cases.items():
        dispatcher = CollectingDispatcher()
        slots = validator().validate_appointment_time(text, dispatcher, tracker(), {})
        assert slots["appointment_time"] is None, text
        assert said(dispatcher) == [expected], text


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
        "appointment_service": ""
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
        "appointment_time_display": "Tuesday 14 May at 15:00",
        "appointment_service": "haircut",
    }
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitAppointment(pushes).run(dispatcher, tracker(slots, intent="affirm"), {})
    assert said(dispatcher) == [(
        "utter_appointment_requested",
        "Done ✅ Your request is sent. A person from our team will confirm the appointment here on WhatsApp.",
    )]
    assert events == reset_events()
    [stored] = list_appointments(database, "requested")
    assert (stored.conversation_id, stored.starts_at, stored.starts_at_text, stored.service) == (
        CUSTOMER, starts_at, "Tuesday 14 May at 15:00", "haircut"
    )
    assert [(m.type, m.data["conversation_id"], m.title, m.body) for m in pushes.sent] == [
        ("scheduling", CUSTOMER, "New appointment request", "••••••••0123: Tuesday 14 May at 15:00 (haircut)")
    ]


class CrashingPushSender:
    async def send(self, token, message):
        raise TypeError('can only concatenate str (not "NoneType") to str')


async def test_a_push_that_crashes_never_costs_the_customer_the_confirmation():
    database = get_runtime().database
    register_device(database, "token-ana-phone-000001", "android", "ana")
    starts_at = dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()
    slots = {"appointment_confirmed": True, "appointment_starts_at": starts_at, "appointment_time_display": "Tue 15:00"}
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitAppointment(CrashingPushSender()).run(dispatcher, tracker(slots, intent="affirm"), {})
    assert [name for name, _ in said(dispatcher)] == ["utter_appointment_requested"]
    assert events == reset_events()
    assert [stored.starts_at for stored in list_appointments(database, "requested")] == [starts_at]
    rows = database.execute("SELECT kind, state, error FROM push_log")
    assert [(row["kind"], row["state"], row["error"]) for row in rows] == [("scheduling", "failed", "crash: TypeError")]


async def test_a_skipped_service_is_neither_stored_nor_pushed():
    register_device(get_runtime().database, "token-ana-phone-000001", "android", "ana")
    pushes = RecordingPushSender()
    starts_at = dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()
    slots = {"appointment_confirmed": True, "appointment_starts_at": starts_at,
             "appointment_time_display": "Tuesday 14 May at 15:00", "appointment_service": ""}
    await ActionSubmitAppointment(pushes).run(CollectingDispatcher(), tracker(slots, intent="affirm"), {})
    assert [stored.service for stored in list_appointments(get_runtime().database)] == [None]
    assert [m.body for m in pushes.sent] == ["••••••••0123: Tuesday 14 May at 15:00"]


def test_the_confirmation_question_leaves_a_skipped_service_out():
    asked = {"language": "en", "appointment_time_display": "Tuesday 14 May at 15:00"}
    responses = get_responses()
    assert responses.text("utter_ask_appointment_confirmed", {**asked, "appointment_service": "haircut"}) == (
        "Shall I send this request? 📅 Tuesday 14 May at 15:00, for: haircut"
    )
    assert responses.text("utter_ask_appointment_confirmed", {**asked, "appointment_service": ""}) == (
        "Shall I send this request? 📅 Tuesday 14 May at 15:00"
    )


async def test_declined_confirmation_stores_nothing():
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitAppointment(RecordingPushSender()).run(
        dispatcher, tracker({"appointment_confirmed": False, "appointment_starts_at": 1.0}, intent="deny"), {}
    )
    assert said(dispatcher) == [
        ("utter_appointment_discarded", "Okay, I didn't send it 👍 If you want to book another time, just tell me.")
    ]
    assert events == reset_events()
    assert list_appointments(get_runtime().database) == []


async def test_reset_clears_every_appointment_slot():
    events = await ActionResetAppointment().run(CollectingDispatcher(), tracker(), {})
    assert SlotSet("appointment_time", None) in events and SlotSet("appointment_confirmed", None) in events


async def test_a_business_can_have_a_person_take_over_every_booking():
    starts_at = dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()
    slots = {"appointment_confirmed": True, "appointment_starts_at": starts_at,
             "appointment_time_display": "Tuesday 14 May at 15:00"}
    settings = Settings(scheduling_handoff=True)
    events = await ActionSubmitAppointment(RecordingPushSender(), settings).run(
        CollectingDispatcher(), tracker(slots, intent="affirm"), {}
    )
    assert events[-2:] == [SlotSet("handoff_reason", "appointment request: Tuesday 14 May at 15:00"),
                           FollowupAction("action_request_handoff")]
    plain = await ActionSubmitAppointment(RecordingPushSender(), Settings()).run(
        CollectingDispatcher(), tracker(slots, intent="affirm"), {}
    )
    assert plain == reset_events()
