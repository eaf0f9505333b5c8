"""The appointment form's validator and the submit action, with a fixed clock."""

import datetime as dt
import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.scheduling import (
    ActionResetAppointment,
    ActionSubmitAppointment,
    ValidateAppointmentForm,
    reset_events,
    texts_asked_for_their_hour,
)
from supportdesk.attendant.alerts import register_device
from supportdesk.attendant.push import PushResult
from supportdesk.platform.responses import ResponseRenderer, get_responses
from supportdesk.platform.settings import Settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling.appointments import list_appointments
from supportdesk.scheduling.wording import MONTH_RESPONSES, WEEKDAY_RESPONSES
from tests.actions.said import said

TRACKERS = Path(__file__).resolve().parent.parent / "fixtures" / "trackers"
CUSTOMER = "447700900123"
MONDAY_10_UTC = dt.datetime(2024, 5, 13, 10, 0, tzinfo=dt.timezone.utc).timestamp()
SETTINGS = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00")


def validator() -> ValidateAppointmentForm:
    return ValidateAppointmentForm(SETTINGS, clock=lambda: MONDAY_10_UTC)


def tracker(slots=None, intent="schedule_appointment", text="", requested=None, events=None) -> Tracker:
    return Tracker(
        CUSTOMER,
        {"requested_slot": requested, **(slots or {})},
        {"intent": {"name": intent, "confidence": 0.95}, "text": text},
        events or [],
        False,
        None,
        {"name": "appointment_form"},
        "action_listen",
    )


def load_tracker(name: str) -> Tracker:
    return Tracker.from_dict(json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8")))


@pytest.fixture
def portuguese_wording(monkeypatch):
    """Dates in words with a pt-BR variation beside the English one, as the domain's are written."""
    condition = [{"type": "slot", "name": "language", "value": "pt-BR"}]
    english_weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    portuguese_weekdays = ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado",
                           "domingo"]
    texts = {
        **{name: (english, portuguese)
           for name, english, portuguese in zip(WEEKDAY_RESPONSES, english_weekdays, portuguese_weekdays)},
        **{name: (f"month {index}", f"mês {index}") for index, name in enumerate(MONTH_RESPONSES, start=1)},
        MONTH_RESPONSES[4]: ("May", "maio"),
        "utter_scheduling_date": ("{weekday} {day} {month}", "{weekday}, {day} de {month}"),
        "utter_scheduling_date_time": ("{weekday} {day} {month} at {time}", "{weekday}, {day} de {month} às {time}"),
        "utter_scheduling_hours_days": ("{first_day}–{last_day} {intervals}", "de {first_day} a {last_day}, {intervals}"),
        "utter_scheduling_hours_interval": ("{opens}–{closes}", "das {opens} às {closes}"),
    }
    renderer = ResponseRenderer({
        name: [{"text": english}, {"condition": condition, "text": portuguese}]
        for name, (english, portuguese) in texts.items()
    })
    monkeypatch.setattr("supportdesk.scheduling.wording.get_responses", lambda: renderer)


async def test_a_readable_open_time_is_kept_with_its_display_and_timestamp():
    dispatcher = CollectingDispatcher()
    slots = await validator().validate_appointment_time("tomorrow at 3pm", dispatcher, tracker(), {})
    assert dispatcher.messages == []
    assert slots["appointment_time_display"] == slots["appointment_time"] == "Tuesday 14 May at 15:00"
    assert slots["appointment_starts_at"] == dt.datetime(2024, 5, 14, 15, 0, tzinfo=dt.timezone.utc).timestamp()


async def test_the_time_the_model_passes_on_is_read():
    """The AI's schedule_appointment tool fills the slot with an ISO 8601 local date-time."""
    dispatcher = CollectingDispatcher()
    slots = await validator().validate_appointment_time("2024-05-17T10:00", dispatcher, tracker(), {})
    assert dispatcher.messages == []
    assert slots["appointment_starts_at"] == dt.datetime(2024, 5, 17, 10, 0, tzinfo=dt.timezone.utc).timestamp()


async def test_each_problem_is_reasked_with_its_own_reason_in_words():
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
        slots = await validator().validate_appointment_time(text, dispatcher, tracker(), {})
        assert slots["appointment_time"] is None, text
        assert said(dispatcher) == [expected], text


@pytest.mark.parametrize(
    "language, text, display",
    [
        ("pt-BR", "amanhã às 15h", "terça-feira, 14 de maio às 15:00"),
        ("pt-BR", "amnh as 3 da tarde", "terça-feira, 14 de maio às 15:00"),
        ("pt-BR", "sexta às 14:30", "sexta-feira, 17 de maio às 14:30"),
        ("en", "tomorrow at 3pm", "Tuesday 14 May at 15:00"),
    ],
)
async def test_the_time_is_read_and_worded_in_the_conversation_language(portuguese_wording, language, text, display):
    dispatcher = CollectingDispatcher()
    slots = await validator().validate_appointment_time(text, dispatcher, tracker({"language": language}), {})
    assert dispatcher.messages == []
    assert slots["appointment_time_display"] == slots["appointment_time"] == display


@pytest.mark.parametrize(
    "language, text, values",
    [
        ("pt-BR", "sexta de manhã", {"appointment_day": "sexta-feira, 17 de maio"}),
        ("pt-BR", "sábado às 10h", {"business_hours": "de segunda-feira a sexta-feira, das 09:00 às 18:00"}),
        ("en", "friday morning", {"appointment_day": "Friday 17 May"}),  # a part of the day asks the hour
        ("en", "friday", {"appointment_day": "Friday 17 May"}),
    ],
)
async def test_a_reask_carries_its_values_in_the_conversation_language(portuguese_wording, language, text, values):
    dispatcher = CollectingDispatcher()
    slots = await validator().validate_appointment_time(text, dispatcher, tracker({"language": language}), {})
    if values is None:
        assert dispatcher.messages == [] and slots["appointment_starts_at"] is not None
        return
    [message] = dispatcher.messages
    assert {key: message[key] for key in values} == values
    assert slots == {"appointment_time": None, "appointment_time_display": None, "appointment_starts_at": None}


async def test_an_hour_alone_answers_the_day_the_customer_was_asked_about(portuguese_wording):
    """"sexta de manhã" → "Que horas?" → "10": Friday at 10:00, not the 10th of the month."""
    dispatcher = CollectingDispatcher()
    slots = await validator().validate_appointment_time(
        "10", dispatcher, load_tracker("appointment_hour_for_the_day_asked_in_portuguese"), {}
    )
    assert dispatcher.messages == []
    assert slots == {
        "appointment_time": "sexta-feira, 17 de maio às 10:00",
        "appointment_time_display": "sexta-feira, 17 de maio às 10:00",
        "appointment_starts_at": dt.datetime(2024, 5, 17, 10, 0, tzinfo=dt.timezone.utc).timestamp(),
    }


async def test_the_day_asked_about_is_read_back_through_every_question_for_the_hour():
    def user(text):
        return {"event": "user", "text": text}

    def bot(response):
        return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}

    asked, ask = bot("utter_appointment_time_needs_hour"), bot("utter_ask_appointment_time")
    events = [user("quero marcar"), ask, user("sexta"), asked, ask, user("de manhã"), asked, ask, user("10")]
    assert texts_asked_for_their_hour(events) == ["sexta", "de manhã"]
    assert texts_asked_for_their_hour(events[:3]) == []
    assert texts_asked_for_their_hour([user("sexta"), bot("utter_appointment_time_closed"), user("10")]) == []
    form = validator()
    slots = await form.validate_appointment_time(
        "10", CollectingDispatcher(), tracker({"language": "pt-BR"}, events=events), {}
    )
    assert slots["appointment_starts_at"] == dt.datetime(2024, 5, 17, 10, 0, tzinfo=dt.timezone.utc).timestamp()


async def test_the_opening_message_keeps_any_time_it_names_for_the_validator():
    """Kept when it reads as one; a day without an hour or a closed time is kept too, to be asked or refused."""
    form = validator()
    for text in ("can i come tomorrow at 3pm?", "can i come on saturday at 10?", "can i come on friday"):
        assert await form.extract_appointment_time(CollectingDispatcher(), tracker(text=text), {}) == {
            "appointment_time": text
        }, text
    vague = tracker(text="i want to book an appointment")
    assert await form.extract_appointment_time(CollectingDispatcher(), vague, {}) == {}
    resumed = tracker(text="can i come tomorrow at 3pm?", events=[
        {"event": "user", "text": "can i come tomorrow at 3pm?"}, {"event": "action", "name": "action_ai_answer"},
    ])
    assert await form.extract_appointment_time(CollectingDispatcher(), resumed, {}) == {}


@pytest.mark.parametrize(
    "language, text",
    [("pt-BR", "pode ser amanhã às 15h?"), ("pt-BR", "quero marcar pra amanhã de manhã"),
     ("en", "can i come tomorrow morning?"), ("en", "can i come tomorrow at 10am?")],
)
async def test_the_opening_message_is_read_in_the_conversation_language(language, text):
    opening = tracker({"language": language}, text=text)
    assert await validator().extract_appointment_time(CollectingDispatcher(), opening, {}) == {"appointment_time": text}


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
        ("scheduling", CUSTOMER, "New appointment request", "••••••••0123: Tuesday 14 May at 15:00 (Haircut)")
    ]


async def test_a_service_of_the_list_is_stored_by_id_and_pushed_in_the_team_language():
    register_device(get_runtime().database, "token-ana-phone-000001", "android", "ana")
    pushes = RecordingPushSender()
    slots = {"appointment_confirmed": True, "appointment_starts_at": 1e10, "language": "pt-BR",
             "appointment_time_display": "terça-feira, 14 de maio às 15:00", "appointment_service": "Escova"}
    await ActionSubmitAppointment(pushes).run(CollectingDispatcher(), tracker(slots, intent="affirm"), {})
    assert [stored.service for stored in list_appointments(get_runtime().database)] == ["blow_dry"]
    assert [m.body for m in pushes.sent] == ["••••••••0123: terça-feira, 14 de maio às 15:00 (Blow-dry)"]


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
