"""The attendant API through Sanic's test client: auth, status codes, appointments, timers."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sanic import Sanic

from channels.attendant import AttendantInput
from supportdesk.attendant.push import PushResult
from supportdesk.attendant.tokens import mint_token
from supportdesk.handoff import state as handoff
from supportdesk.handoff.desk import AttendantDesk
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.scheduling import appointments

SECRET = "attendant-api-test-secret-0123456789"
CUSTOMER = "16315551181"
_apps = iter(range(10**6))


async def _ignore(_message) -> None:
    return None


@pytest.fixture(autouse=True)
def jwt_secret(monkeypatch):
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    reset_settings_cache()


@pytest.fixture
def app() -> Sanic:
    app = Sanic(f"attendant_test_{next(_apps)}")
    app.blueprint(AttendantInput(run_timers=False).blueprint(_ignore), url_prefix="/webhooks/attendant")
    return app


def auth(sub: str = "ana", role: str = "attendant", ttl: int = 3600) -> dict:
    return {"Authorization": f"Bearer {mint_token(SECRET, sub, sub.title(), role, ttl)}"}


async def call(app, method, path, headers=None, body=None):
    client = app.asgi_client
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["content"] = body if isinstance(body, bytes) else json.dumps(body)
    _, response = await getattr(client, method.lower())(f"/webhooks/attendant{path}", **kwargs)
    return response


def a_customer_waits(customer: str = CUSTOMER) -> None:
    database = get_runtime().database
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO conversations (id, customer_name, last_inbound_at, last_message_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            (customer, "Kerry Fisher", now, now, now, now),
        )
    handoff.request_handoff(database, customer, "asked for a person", HandoffTimeouts())


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic YW5hOnB3"},
     {"Authorization": f"Bearer {mint_token('wrong-secret-0123456789abcdef', 'ana', 'Ana')}"},
     {"Authorization": f"Bearer {mint_token(SECRET, 'ana', 'Ana', ttl_seconds=-5)}"}],
)
async def test_every_bad_token_is_401_with_the_error_body(app, headers):
    response = await call(app, "GET", "/conversations", headers)
    assert response.status == 401 and response.json["error"] == "unauthorized" and response.json["message"]


async def test_no_secret_configured_means_401(app, monkeypatch):
    monkeypatch.delenv("ATTENDANT_JWT_SECRET")
    reset_settings_cache()
    assert (await call(app, "GET", "/conversations", auth())).status == 401


async def test_queue_claim_conflict_release(app):
    a_customer_waits()
    waiting = await call(app, "GET", "/conversations?status=waiting", auth())
    [conversation] = waiting.json["conversations"]
    assert conversation["id"] == CUSTOMER and conversation["status"] == "waiting" and conversation["waiting_since"]
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/claim", auth("ana"))).json["assigned_to"] == "ana"
    conflict = await call(app, "POST", f"/conversations/{CUSTOMER}/claim", auth("bruno"))
    assert conflict.status == 409 and conflict.json["error"] == "held_by_other"
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/release", auth("bruno"))).status == 409
    released = await call(app, "POST", f"/conversations/{CUSTOMER}/release", auth("boss", "admin"))
    assert released.status == 200 and released.json["status"] == "bot"
    assert (await call(app, "POST", "/conversations/nobody/claim", auth())).status == 404
    assert (await call(app, "POST", "/conversations/nobody/release", auth())).status == 404


async def test_reply_rules(app):
    a_customer_waits()
    too_long = await call(app, "POST", f"/conversations/{CUSTOMER}/messages", auth(), {"text": "x" * 4097})
    assert too_long.status == 400 and too_long.json["error"] == "text_too_long"
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/messages", auth(), {"text": "hi"})).status == 409
    await call(app, "POST", f"/conversations/{CUSTOMER}/claim", auth())
    accepted = await call(app, "POST", f"/conversations/{CUSTOMER}/messages", auth(), {"text": "Hi Kerry"})
    assert accepted.status == 202 and accepted.json["id"].startswith("out-")
    row = get_runtime().database.execute("SELECT origin, attendant_id, message FROM outbox_messages")[0]
    assert (row["origin"], row["attendant_id"], json.loads(row["message"])["text"]["body"]) == ("attendant", "ana", "Hi Kerry")
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/messages", auth(), b"{oops")).status == 400


async def test_a_burst_of_thirty_replies_is_all_accepted(app):
    """Replies read the holder, then write: on SQLite each takes the write lock first (no 503)."""
    a_customer_waits()
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/claim", auth())).status == 200
    answers = await asyncio.gather(
        *[call(app, "POST", f"/conversations/{CUSTOMER}/messages", auth(), {"text": f"reply {n}"}) for n in range(30)]
    )
    assert [answer.status for answer in answers] == [202] * 30
    database = get_runtime().database
    rows = database.execute("SELECT COUNT(*) AS n FROM outbox_messages WHERE origin = 'attendant'")
    assert rows[0]["n"] == 30


async def test_devices_register_idempotently(app):
    body = {"token": "fcm-device-token-000001", "platform": "ios"}
    first = await call(app, "POST", "/devices", auth("ana"), body)
    again = await call(app, "POST", "/devices", auth("ana"), body)
    assert first.status == again.status == 201 and first.json == {**body, "attendant_id": "ana"}
    assert get_runtime().database.execute("SELECT COUNT(*) AS n FROM attendant_devices")[0]["n"] == 1
    assert (await call(app, "POST", "/devices", auth(), {"token": "", "platform": "ios"})).status == 400
    assert (await call(app, "POST", "/devices", auth(), b"x" * (65 * 1024))).status == 413


async def test_appointments_are_listed_and_answered_once(app):
    database = get_runtime().database
    a_customer_waits()
    later = appointments.create_request(database, CUSTOMER, time.time() + 7200, "Thu 26 Nov at 15:00", "haircut", None)
    sooner = appointments.create_request(database, CUSTOMER, time.time() + 3600, "Thu 26 Nov at 14:00", None, None)
    listed = await call(app, "GET", "/appointments?status=requested", auth())
    assert [a["id"] for a in listed.json["appointments"]] == [sooner.id, later.id]
    assert listed.json["appointments"][0]["customer_name"] == "Kerry Fisher"
    confirmed = await call(app, "POST", f"/appointments/{later.id}/confirm", auth())
    assert confirmed.status == 200 and confirmed.json["status"] == "confirmed" and confirmed.json["answered_by"] == "ana"
    assert (await call(app, "POST", f"/appointments/{later.id}/decline", auth())).status == 409
    declined = await call(app, "POST", f"/appointments/{sooner.id}/decline", auth(), {"message": "Sorry, fully booked that day."})
    assert declined.status == 200
    assert (await call(app, "POST", "/appointments/9999/confirm", auth())).status == 404
    sent = [json.loads(row["message"])["text"]["body"] for row in database.execute("SELECT message FROM outbox_messages ORDER BY id")]
    assert sent == ["Your appointment on Thu 26 Nov at 15:00 is confirmed ✅ See you then!", "Sorry, fully booked that day."]


class RecordingPushSender:
    def __init__(self):
        self.sent = []

    async def send(self, token, message):
        self.sent.append((token, message))
        return PushResult(token=token, outcome="sent")


async def test_claim_timeout_loop_with_a_controllable_clock():
    database = get_runtime().database
    from supportdesk.attendant.alerts import register_device

    register_device(database, "token-ana-000001", "android", "ana")
    now = [1_900_000_000.0]
    timeouts = HandoffTimeouts(claim_seconds=300, give_up_seconds=1800, idle_reminder_seconds=600)
    pushes = RecordingPushSender()
    runtime = get_runtime()
    desk = AttendantDesk(database, timeouts, lambda: pushes, runtime.wake_sender, clock=lambda: now[0])
    handoff.request_handoff(database, "447700900999", None, timeouts, now[0])
    now[0] += 301
    assert await desk.run_due_timers() == 1
    assert [message.type for _, message in pushes.sent] == ["handoff"]
    assert pushes.sent[0][1].title == "Customer still waiting"
    now[0] += 1500
    assert await desk.run_due_timers() == 1  # gave up: back to the bot
    texts = [json.loads(row["message"])["text"]["body"] for row in
             database.execute("SELECT message FROM outbox_messages WHERE conversation_id = '447700900999' ORDER BY id")]
    assert texts[0].startswith("Still finding someone") and texts[1].startswith("Sorry, nobody")
    assert database.execute("SELECT status FROM conversations WHERE id = '447700900999'")[0]["status"] == "bot"
