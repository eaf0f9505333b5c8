"""The attendant API through Sanic's test client: auth, status codes, appointments, timers."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from channels.attendant import AttendantInput
from supportdesk.attendant.push import PushResult
from supportdesk.attendant.tokens import mint_token
from supportdesk.handoff import state as handoff
from supportdesk.handoff.desk import AttendantDesk
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.messaging import outbox
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


async def test_a_missed_request_is_listed_until_someone_follows_it_up(app):
    """Issue 14: a wait that ran out goes back to the bot but stays in `?missed=yes` with `missed_at`."""
    database = get_runtime().database
    a_customer_waits()
    handoff.take_due_timers(database, HandoffTimeouts(), time.time() + 3600)
    missed = await call(app, "GET", "/conversations?missed=yes", auth())
    [conversation] = missed.json["conversations"]
    assert (conversation["id"], conversation["status"]) == (CUSTOMER, "bot") and conversation["missed_at"]
    assert (await call(app, "GET", "/conversations?status=waiting", auth())).json["conversations"] == []
    bad = await call(app, "GET", "/conversations?missed=no", auth())
    assert (bad.status, bad.json["error"]) == (400, "invalid_missed")
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/claim", auth("ana"))).json["missed_at"] is None
    assert (await call(app, "GET", "/conversations?missed=yes", auth())).json["conversations"] == []


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
    from supportdesk.scheduling.business_hours import parse_business_hours

    register_device(database, "token-ana-000001", "android", "ana")
    now = [1_900_000_000.0]
    timeouts = HandoffTimeouts(claim_seconds=300, give_up_seconds=1800, idle_reminder_seconds=600)
    pushes = RecordingPushSender()
    runtime = get_runtime()
    always_open = parse_business_hours("mon-sun 00:00-24:00", "UTC")  # out of hours: tests/supportdesk/handoff/test_desk.py
    desk = AttendantDesk(database, timeouts, lambda: pushes, runtime.wake_sender, clock=lambda: now[0], hours=always_open)
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


# --- issue 12, item 5: no 500s, the contract's body for every error, no full number in any log line


def test_a_non_utf8_authorization_is_401_not_a_traceback(caplog):
    """Over a real socket Sanic keeps undecodable header bytes as surrogates; PyJWT cannot encode them."""
    app = Sanic(f"attendant_socket_{next(_apps)}")
    app.blueprint(AttendantInput(run_timers=False).blueprint(_ignore), url_prefix="/webhooks/attendant")
    _, response = app.test_client.get("/webhooks/attendant/conversations", headers={"Authorization": b"Bearer \xff\xfe"})
    assert response.status == 401 and response.json["error"] == "unauthorized"
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


DEEP = b"[" * 20_000 + b"]" * 20_000


@pytest.mark.parametrize(
    "path, body",
    [("/devices", DEEP), ("/devices", b'{"token": "\\ud800", "platform": "ios"}'),
     ("/devices", b'{"token": "fcm-token-000001", "platform": "ios", "\\udfff": 1}'),
     (f"/conversations/{CUSTOMER}/messages", DEEP), (f"/conversations/{CUSTOMER}/messages", b'{"text": "hi \\ud800"}'),
     ("/appointments/1/confirm", b'{"message": "\\ud83d"}')],
)
async def test_deep_nesting_and_lone_surrogates_are_malformed_json(app, path, body):
    a_customer_waits()
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/claim", auth())).status == 200
    response = await call(app, "POST", path, auth(), body)
    assert response.status == 400 and response.json["error"] == "malformed_json"


@pytest.mark.parametrize("raw", ["9" * 5000, "9" * 300, str(2**63), "-1", "12a"])
async def test_an_impossible_last_event_id_is_400_and_logs_no_error(app, caplog, raw):
    response = await asyncio.wait_for(call(app, "GET", "/stream", {**auth(), "Last-Event-ID": raw}), 30)  # a stream never ends
    assert response.status == 400 and response.json["error"] == "invalid_last_event_id"
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


async def test_other_scripts_digits_are_no_event_id(app):
    response = await asyncio.wait_for(call(app, "GET", "/stream?last_event_id=%D9%A1%D9%A2", auth()), 30)  # int() takes "١٢"
    assert response.status == 400 and response.json["error"] == "invalid_last_event_id"


async def test_the_routers_404_and_405_use_the_error_body(app):
    missing = await call(app, "GET", f"/nothing/{CUSTOMER}", auth())
    assert missing.status == 404 and missing.json == {"error": "not_found", "message": "Not Found"}
    wrong_method = await call(app, "DELETE", "/conversations", auth())
    assert wrong_method.status == 405 and wrong_method.json["error"] == "method_not_allowed"
    assert wrong_method.headers["allow"] == "GET"
    _, trace = await app.asgi_client.request("TRACE", f"/webhooks/attendant/conversations/{CUSTOMER}/messages", headers=auth())
    assert trace.status == 405 and sorted(trace.headers["allow"].split(", ")) == ["GET", "POST"]


class EveryLine(logging.Handler):
    """Keeps every record's text as a handler would write it: message, fields, traceback."""

    def __init__(self) -> None:
        super().__init__()
        self.lines = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = " ".join(str(value) for value in vars(record).values() if isinstance(value, str))
        self.lines.append(f"{record.getMessage()} {fields} {record.exc_text or ''}")


def test_no_log_line_of_the_server_holds_a_full_number():
    """Sanic's access line and its error line for a route outside ours (Rasa's API) write full URLs."""
    lines = EveryLine()
    logging.getLogger().addHandler(lines)
    try:
        app = Sanic(f"attendant_logs_{next(_apps)}")
        app.blueprint(AttendantInput(run_timers=False).blueprint(_ignore), url_prefix="/webhooks/attendant")

        @app.get("/conversations/<conversation_id>/tracker")
        async def rasa_route(request, conversation_id):
            raise RuntimeError(f"no tracker for {conversation_id}")

        app.test_client.get(f"/webhooks/attendant/conversations/{CUSTOMER}", headers=auth())
        app.test_client.get(f"/conversations/{CUSTOMER}/tracker")
    finally:
        logging.getLogger().removeHandler(lines)
    assert [line for line in lines.lines if CUSTOMER in line] == []
    assert any("•••••••1181/tracker" in line for line in lines.lines)  # Sanic's error line, masked
    assert any("/webhooks/attendant/conversations/•••••••1181" in line for line in lines.lines)  # the access line


# --- issue 12, item 7: history in pages


class TrackerOnlyAgent:
    """The part of Rasa's Agent the history reads: its tracker store (Rasa's in-memory one)."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())


async def a_long_history(customer_turns: int = 350, pending_replies: int = 307) -> list:
    """Customer turns with two bot replies each in the tracker, then attendant replies not yet in it."""
    a_customer_waits()
    agent = TrackerOnlyAgent()
    events, expected = [], []
    for turn in range(customer_turns):
        wamid = f"wamid.{turn:04d}"
        events += [UserUttered(f"question {turn}", message_id=wamid, timestamp=1_900_000_000.0 + turn),
                   BotUttered(f"answer {turn}", timestamp=1_900_000_000.1 + turn),
                   BotUttered(f"more {turn}", timestamp=1_900_000_000.2 + turn)]
        expected += [wamid, f"{wamid}:0", f"{wamid}:1"]
    await agent.tracker_store.save(DialogueStateTracker.from_events(CUSTOMER, events))
    get_runtime().bind_agent(agent)
    drafts = [outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": f"reply {n}"}}, "attendant", attendant_id="ana")
              for n in range(pending_replies)]
    with get_runtime().database.transaction() as cursor:
        expected += [outbox.message_id_of(row_id) for row_id in outbox.enqueue(cursor, drafts, 1_900_001_000.0)]
    return expected


async def test_a_long_history_pages_back_from_the_newest_without_gaps_or_repeats(app):
    expected = await a_long_history()
    assert len(expected) == 1357
    newest = await call(app, "GET", f"/conversations/{CUSTOMER}/messages", auth())
    assert newest.status == 200 and len(newest.json["messages"]) == 100 and newest.json["next_after"] is None
    pages, cursor = [newest.json["messages"]], newest.json["next_before"]
    while cursor is not None:
        older = await call(app, "GET", f"/conversations/{CUSTOMER}/messages?limit=500&before={cursor}", auth())
        pages.insert(0, older.json["messages"])
        cursor = older.json["next_before"]
    assert [message["id"] for page in pages for message in page] == expected
    assert [len(page) for page in pages] == [257, 500, 500, 100]
    assert pages[-1][-1] == {**pages[-1][-1], "sender": "attendant", "text": "reply 306", "status": "pending"}


async def test_after_pages_forward_in_order_as_before(app):
    expected = await a_long_history()
    seen, cursor = [], expected[0]
    while cursor is not None:
        newer = await call(app, "GET", f"/conversations/{CUSTOMER}/messages?after={cursor}&limit=300", auth())
        assert newer.status == 200
        seen += [message["id"] for message in newer.json["messages"]]
        cursor = newer.json["next_after"]
    assert seen == expected[1:]
    tail = await call(app, "GET", f"/conversations/{CUSTOMER}/messages?after={expected[-3]}", auth())
    assert [m["id"] for m in tail.json["messages"]] == expected[-2:] and tail.json["next_after"] is None


@pytest.mark.parametrize("query, code", [("limit=0", "invalid_limit"), ("limit=501", "invalid_limit"), ("limit=ten", "invalid_limit"),
                                         ("limit=" + "9" * 5000, "invalid_limit"), ("after=wamid.nope", "unknown_message"),
                                         ("before=wamid.nope", "unknown_message")])
async def test_bad_paging_is_400(app, query, code):
    a_customer_waits()
    response = await call(app, "GET", f"/conversations/{CUSTOMER}/messages?{query}", auth())
    assert response.status == 400 and response.json["error"] == code


async def test_a_blank_or_second_invalid_parameter_is_not_ignored(app):
    """Found by the fuzz run: `status=` listed everything, `last_event_id=x` was ignored beside a good header."""
    for path in ("/conversations?status=", "/appointments?status="):
        blank = await call(app, "GET", path, auth())
        assert blank.status == 400 and blank.json["error"] == "invalid_status"
    both = await asyncio.wait_for(call(app, "GET", "/stream?last_event_id=x", {**auth(), "Last-Event-ID": "5"}), 30)
    assert both.status == 400 and both.json["error"] == "invalid_last_event_id"
