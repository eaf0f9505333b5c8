"""Confirm / decline of an appointment after the 24-hour window: the update template, or 409 `window_closed`."""

import time

import pytest

from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.scheduling import appointments
from tests.channels.attendant_client import JOAO, SECRET, a_customer, attendant_app, auth, call, outbox_messages
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fixture_files import PHONE_NUMBER_ID

TOMORROW = "Thu 26 Nov at 09:00"


@pytest.fixture
def fake():
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
async def configure(fake, monkeypatch):
    def apply(**extra):
        values = {
            "ATTENDANT_JWT_SECRET": SECRET, "WHATSAPP_ACCESS_TOKEN": FAKE_ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_URL": fake.url,
            "WHATSAPP_BUSINESS_ACCOUNT_ID": "102290129340398", **extra,
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()
        return attendant_app()

    yield apply
    if get_runtime().graph is not None:
        await get_runtime().graph.close()


def a_request(wrote_hours_ago: float) -> appointments.Appointment:
    a_customer(wrote_hours_ago=wrote_hours_ago)
    return appointments.create_request(get_runtime().database, JOAO, time.time() + 86400 * 2, TOMORROW, "haircut", None)


def stored_status(appointment_id: int) -> str:
    return appointments.load_appointment(get_runtime().database, appointment_id).status


async def test_outside_the_window_without_an_update_template_confirm_is_409_and_changes_nothing(configure):
    app = configure()
    request = a_request(wrote_hours_ago=30)
    answer = await call(app, "POST", f"/appointments/{request.id}/confirm", auth())
    assert (answer.status, answer.json["error"]) == (409, "window_closed")
    assert stored_status(request.id) == "requested" and outbox_messages() == []


async def test_outside_the_window_the_update_template_carries_the_answer(configure):
    app = configure(APPOINTMENT_UPDATE_TEMPLATE="appointment_follow_up")
    request = a_request(wrote_hours_ago=30)
    answer = await call(app, "POST", f"/appointments/{request.id}/confirm", auth())
    assert (answer.status, answer.json["status"]) == (200, "confirmed")
    assert outbox_messages() == [{
        "type": "template",
        "template": {"name": "appointment_follow_up", "language": {"code": "pt_BR"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "João"},
                                                                    {"type": "text", "text": TOMORROW}]}]},
    }]
    [row] = get_runtime().database.execute("SELECT starts_at, reminder_at FROM appointments")
    assert row["reminder_at"] == row["starts_at"] - 24 * 3600


async def test_an_unknown_update_template_is_409_too(configure):
    app = configure(APPOINTMENT_UPDATE_TEMPLATE="not_approved_anywhere")
    request = a_request(wrote_hours_ago=30)
    assert (await call(app, "POST", f"/appointments/{request.id}/decline", auth())).status == 409


async def test_inside_the_window_the_answer_is_free_text_as_before(configure):
    app = configure(APPOINTMENT_UPDATE_TEMPLATE="appointment_follow_up")
    request = a_request(wrote_hours_ago=1)
    assert (await call(app, "POST", f"/appointments/{request.id}/decline", auth())).status == 200
    assert [message["type"] for message in outbox_messages()] == ["text"]
    assert get_runtime().database.execute("SELECT reminder_at FROM appointments") == [{"reminder_at": None}]
