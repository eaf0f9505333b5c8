"""The real WhatsApp channel through Sanic's test client, driven by the signed fixture files."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import time
from typing import Dict, Iterable, Tuple

import pytest
from rasa.core.run import configure_app
from sanic import Sanic
from sanic import response as sanic_response

from channels.whatsapp import MAX_BODY_BYTES, WhatsAppInput
from supportdesk.messaging import outbox
from supportdesk.messaging.conversations import load_conversation
from supportdesk.messaging.inbox import pending_rows
from supportdesk.messaging.turn_processor import stream_messages
from supportdesk.platform.database import DatabaseUnavailable
from supportdesk.platform.settings import get_settings, reset_settings_cache
from supportdesk.platform.timestamps import iso_time
from supportdesk.runtime import get_runtime, reset_runtime
from supportdesk.whatsapp.signature import sign
from tests.fixture_files import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, fixture_bytes, fixture_signature, webhook_fixture_names

_apps = iter(range(10**6))


async def _ignore(_message) -> None:
    return None


def make_app(**channel_options) -> Sanic:
    app = Sanic(f"whatsapp_test_{next(_apps)}")
    channel = WhatsAppInput(process_messages=False, **channel_options)
    app.blueprint(channel.blueprint(_ignore), url_prefix="/webhooks/whatsapp")
    return app


@pytest.fixture(autouse=True)
def whatsapp_settings(monkeypatch):
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    reset_settings_cache()


@pytest.fixture
def app() -> Sanic:
    return make_app()


async def post(app: Sanic, body: bytes, signature=None, sign_it: bool = True):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif sign_it:
        headers["X-Hub-Signature-256"] = sign(body, APP_SECRET)
    _, response = await app.asgi_client.post("/webhooks/whatsapp/webhook", content=body, headers=headers)
    return response


def count(sql: str, params=()) -> int:
    return get_runtime().database.execute(sql, params)[0]["n"]


async def test_verification_echoes_the_challenge_only_for_our_token(app):
    query = "hub.mode=subscribe&hub.verify_token={}&hub.challenge=1158201444"
    _, ok = await app.asgi_client.get("/webhooks/whatsapp/webhook?" + query.format(VERIFY_TOKEN))
    assert (ok.status, ok.text, ok.headers["content-type"].split(";")[0]) == (200, "1158201444", "text/plain")
    _, wrong = await app.asgi_client.get("/webhooks/whatsapp/webhook?" + query.format("nope"))
    assert wrong.status == 403
    _, missing = await app.asgi_client.get("/webhooks/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1")
    assert missing.status == 403


@pytest.mark.parametrize("name", webhook_fixture_names("inbound_"))
async def test_every_inbound_fixture_is_stored_once_per_message(app, name):
    body = fixture_bytes(name)
    response = await post(app, body, signature=fixture_signature(name))
    assert response.status == 200, response.text
    messages = [m for e in json.loads(body)["entry"] for c in e["changes"] for m in c["value"].get("messages", [])]
    assert count("SELECT COUNT(*) AS n FROM inbox_messages") == len(messages)
    stored = {row["wamid"]: row["kind"] for row in get_runtime().database.execute("SELECT wamid, kind FROM inbox_messages")}
    assert stored == {m["id"]: m["type"] for m in messages}
    again = await post(app, body, signature=fixture_signature(name))
    assert again.status == 200 and again.json["new"] == 0 and again.json["duplicates"] == len(messages)
    assert count("SELECT COUNT(*) AS n FROM inbox_messages") == len(messages)


async def test_signature_is_checked_before_anything_else(app):
    body = fixture_bytes("inbound_text.json")
    assert (await post(app, body, sign_it=False)).status == 401
    assert (await post(app, body, signature="sha256=" + "0" * 64)).status == 403
    assert (await post(app, body, signature="sha1=abc")).status == 403
    reserialised = json.dumps(json.loads(body)).encode()
    assert (await post(app, reserialised, signature=fixture_signature("inbound_text.json"))).status == 403
    assert count("SELECT COUNT(*) AS n FROM inbox_messages") == 0


async def test_raw_non_ascii_body_verifies_over_its_bytes(app):
    escaped = fixture_bytes("inbound_text_unicode.json")  # Meta escapes non-ASCII as \uXXXX
    assert (await post(app, escaped, signature=fixture_signature("inbound_text_unicode.json"))).status == 200
    raw = json.dumps(json.loads(escaped), ensure_ascii=False, indent=1).encode("utf-8")
    raw = raw.replace(b"wamid.", b"wamid.raw.")
    assert any(byte > 127 for byte in raw)
    assert (await post(app, raw, signature=sign(raw, APP_SECRET))).status == 200
    assert (await post(app, raw, signature=sign(raw.decode("utf-8").encode("utf-16"), APP_SECRET))).status == 403
    texts = [json.loads(row["payload"]) for row in get_runtime().database.execute("SELECT payload FROM inbox_messages")]
    assert len(texts) == 2


async def test_errors_are_json_without_tracebacks(app):
    too_big = b'{"object":"whatsapp_business_account","entry":[]' + b" " * MAX_BODY_BYTES + b"}"
    big = await post(app, too_big)
    assert big.status == 413 and big.json["error"] == "payload_too_large"
    malformed = await post(app, b"{not json")
    assert malformed.status == 400 and set(malformed.json) == {"error", "message"}
    not_envelope = await post(app, b"[1, 2, 3]")
    assert not_envelope.status == 400
    for response in (big, malformed, not_envelope):
        assert "Traceback" not in response.text


async def test_database_down_answers_503_so_meta_retries(app, monkeypatch):
    def unavailable(*_args, **_kwargs):
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr("supportdesk.messaging.inbox.store_deliveries", unavailable)  # the batch (group commit)
    monkeypatch.setattr("supportdesk.messaging.inbox.store_delivery", unavailable)  # and alone
    response = await post(app, fixture_bytes("inbound_text.json"), signature=fixture_signature("inbound_text.json"))
    assert response.status == 503 and response.json["error"] == "storage_unavailable"


async def test_a_second_instance_on_the_same_database_sees_the_duplicate(app):
    body, signature = fixture_bytes("inbound_batch_three_messages.json"), fixture_signature("inbound_batch_three_messages.json")
    assert (await post(app, body, signature=signature)).json["new"] == 3
    reset_runtime()  # a new process would have its own connections and runtime
    other = make_app()
    assert (await post(other, body, signature=signature)).json == {"status": "received", "new": 0, "duplicates": 3}


async def test_messages_for_another_business_number_are_ignored(monkeypatch):
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "999999999")
    reset_settings_cache()
    other_number = make_app()
    response = await post(other_number, fixture_bytes("inbound_text.json"), signature=fixture_signature("inbound_text.json"))
    assert response.status == 200 and response.json["new"] == 0
    assert count("SELECT COUNT(*) AS n FROM inbox_messages") == 0


def queue_reply(wamid: str, conversation_id: str = "16315551181") -> int:
    database = get_runtime().database
    with database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO conversations (id, last_inbound_at, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (conversation_id, time.time(), time.time(), time.time()),
        )
        [outbox_id] = outbox.enqueue(
            cursor, [outbox.OutboxDraft(conversation_id, {"type": "text", "text": {"body": "hi"}}, "attendant")], time.time()
        )
    outbox.finish(database, outbox_id, "sent", wamid=wamid)
    return outbox_id


@pytest.mark.parametrize("name, state", [("status_sent.json", "sent"), ("status_delivered.json", "delivered"), ("status_read.json", "read")])
async def test_statuses_move_the_delivery_state_forward(app, name, state):
    wamid = json.loads(fixture_bytes(name))["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    outbox_id = queue_reply(wamid)
    assert (await post(app, fixture_bytes(name), signature=fixture_signature(name))).status == 200
    row = get_runtime().database.execute("SELECT state FROM outbox_messages WHERE id = ?", (outbox_id,))[0]
    assert row["state"] == state
    events = get_runtime().database.execute("SELECT event, data FROM stream_events WHERE event = 'message.status'")
    assert json.loads(events[-1]["data"])["status"] == state


async def test_a_read_status_is_never_undone_by_a_late_delivered(app):
    wamid = json.loads(fixture_bytes("status_read.json"))["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    delivered_wamid = json.loads(fixture_bytes("status_delivered.json"))["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    if wamid != delivered_wamid:
        pytest.skip("the fixtures describe different messages")
    outbox_id = queue_reply(wamid)
    await post(app, fixture_bytes("status_read.json"), signature=fixture_signature("status_read.json"))
    await post(app, fixture_bytes("status_delivered.json"), signature=fixture_signature("status_delivered.json"))
    assert get_runtime().database.execute("SELECT state FROM outbox_messages WHERE id = ?", (outbox_id,))[0]["state"] == "read"


async def test_failed_131047_records_the_reason_and_closes_the_window(app):
    name = "status_failed_131047.json"
    value = json.loads(fixture_bytes(name))["entry"][0]["changes"][0]["value"]["statuses"][0]
    outbox_id = queue_reply(value["id"], conversation_id=value["recipient_id"])
    assert (await post(app, fixture_bytes(name), signature=fixture_signature(name))).status == 200
    row = get_runtime().database.execute("SELECT state, failure_code, failure_reason FROM outbox_messages WHERE id = ?", (outbox_id,))[0]
    assert (row["state"], row["failure_code"], row["failure_reason"]) == ("failed", 131047, "window_closed")
    conversation = load_conversation(get_runtime().database, value["recipient_id"])
    assert conversation.window_closed and not conversation.window_open()


# --- One out-of-range number must not sink a delivery (issue 12, item 4) -------------------------------------------

JOAO = "5511987654321"
MAX_INT64 = 2**63 - 1


@pytest.fixture(params=["sqlite", "postgres"])
def on_each_database(request, monkeypatch) -> str:
    """Run the channel on the test's SQLite file, then on a fresh PostgreSQL database."""
    if request.param == "postgres":
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("postgres_url"))
        reset_settings_cache()
        reset_runtime()
    return request.param


def delivery_body(messages=(), statuses=(), errors=()) -> bytes:
    """A signed-ready webhook body from our business number with the given items."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "João Silva"}, "wa_id": JOAO}],
        "messages": list(messages),
        "statuses": list(statuses),
    }
    if errors:
        value["errors"] = list(errors)
    envelope = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(envelope).encode()


def text_item(wamid: str, timestamp, **extra) -> dict:
    return {"from": JOAO, "id": wamid, "timestamp": timestamp, "type": "text", "text": {"body": "oi"}, **extra}


def inbox_rows() -> dict:
    rows = get_runtime().database.execute("SELECT wamid, sent_at, received_at FROM inbox_messages")
    return {row["wamid"]: (row["sent_at"], row["received_at"]) for row in rows}


@pytest.mark.parametrize(
    "bad_timestamp",
    [str(2**63), 2**63, str(10**30), "253402300800", 253402300800, "-1", "0", "1e9", 17955291.5, None, True, [1], "", "now"],
)
async def test_a_message_with_an_impossible_timestamp_is_answered_at_the_time_of_receipt(app, on_each_database, bad_timestamp, caplog):
    body = delivery_body([text_item("wamid.good", "1795529100"), text_item("wamid.bad", bad_timestamp)])
    before = time.time()
    with caplog.at_level(logging.WARNING):
        response = await post(app, body)
    after = time.time()
    assert (response.status, response.json) == (200, {"status": "received", "new": 2, "duplicates": 0})
    rows = inbox_rows()
    assert set(rows) == {"wamid.good", "wamid.bad"}
    assert rows["wamid.good"][0] == 1795529100
    sent_at, received_at = rows["wamid.bad"]
    assert int(before) <= sent_at <= after and sent_at == int(received_at)
    warnings = [r for r in caplog.records if r.getMessage() == "whatsapp.payload.timestamp_replaced"]
    assert [(r.levelname, r.wamid) for r in warnings] == [("WARNING", "wamid.bad")]
    assert JOAO not in caplog.text and JOAO[-8:] not in caplog.text
    # The stored row reads back with the same time, and the turn can show it (year 10000 broke `iso_time`).
    [pending] = [row for row in pending_rows(get_runtime().database, JOAO) if row.wamid == "wamid.bad"]
    assert pending.message.timestamp == sent_at
    assert stream_messages(pending, [], after)[0]["timestamp"] == iso_time(sent_at)


async def test_a_timestamp_more_than_a_day_ahead_is_replaced_but_a_minute_ahead_is_kept(app, on_each_database):
    now = int(time.time())
    body = delivery_body([text_item("wamid.soon", str(now + 60)), text_item("wamid.far", str(now + 2 * 86400))])
    assert (await post(app, body)).status == 200
    rows = inbox_rows()
    assert rows["wamid.soon"][0] == now + 60
    assert rows["wamid.far"][0] < now + 86400


@pytest.mark.parametrize("bad_timestamp", [str(2**63), 2**63, str(MAX_INT64), "99999999999999999999", None, "x", {"t": 1}])
async def test_a_status_with_an_unusable_timestamp_is_skipped_and_the_rest_stored(app, on_each_database, bad_timestamp, caplog):
    queue_reply("wamid.out.bad", conversation_id=JOAO)
    good_id = queue_reply("wamid.out.good", conversation_id="16315551181")
    statuses = [
        {"id": "wamid.out.bad", "status": "read", "timestamp": bad_timestamp, "recipient_id": JOAO},
        {"id": "wamid.out.good", "status": "delivered", "timestamp": "1795529200", "recipient_id": "16315551181"},
    ]
    with caplog.at_level(logging.WARNING):
        response = await post(app, delivery_body([text_item("wamid.in", "1795529100")], statuses))
    assert (response.status, response.json) == (200, {"status": "received", "new": 1, "duplicates": 0})
    database = get_runtime().database
    assert database.execute("SELECT wamid, status, status_at FROM delivery_statuses") == [
        {"wamid": "wamid.out.good", "status": "delivered", "status_at": 1795529200}
    ]
    assert database.execute("SELECT id, state FROM outbox_messages WHERE wamid = 'wamid.out.good'") == [{"id": good_id, "state": "delivered"}]
    assert database.execute("SELECT state FROM outbox_messages WHERE wamid = 'wamid.out.bad'") == [{"state": "sent"}]
    assert set(inbox_rows()) == {"wamid.in"}
    skipped = [r for r in caplog.records if r.getMessage() == "whatsapp.payload.status_skipped"]
    assert [(r.levelname, r.wamid, r.reason) for r in skipped] == [("WARNING", "wamid.out.bad", "timestamp_unusable")]
    assert JOAO not in caplog.text and JOAO[-8:] not in caplog.text


@pytest.mark.parametrize("bad_code", [2**63, str(2**63), 2**31, -1, 10**40, 1.5e300, "131047x", None])
async def test_an_error_code_out_of_range_becomes_unknown(app, on_each_database, bad_code, caplog):
    outbox_id = queue_reply("wamid.out.failed", conversation_id=JOAO)
    error = {"code": bad_code, "title": "Something", "message": "Something", "error_data": {"details": "d"}}
    failed = {"id": "wamid.out.failed", "status": "failed", "timestamp": "1795529200", "recipient_id": JOAO, "errors": [error]}
    messages = [text_item("wamid.in.error", "1795529100", errors=[error]), text_item("wamid.in.fine", "1795529101")]
    with caplog.at_level(logging.WARNING):
        response = await post(app, delivery_body(messages, [failed], errors=[error]))
    assert (response.status, response.json) == (200, {"status": "received", "new": 2, "duplicates": 0})
    database = get_runtime().database
    assert database.execute("SELECT status, error_code FROM delivery_statuses") == [{"status": "failed", "error_code": None}]
    row = database.execute("SELECT state, failure_code, failure_reason FROM outbox_messages WHERE id = ?", (outbox_id,))[0]
    assert (row["state"], row["failure_code"], row["failure_reason"]) == ("failed", None, "failed")
    assert set(inbox_rows()) == {"wamid.in.error", "wamid.in.fine"}
    if bad_code is not None:
        unusable = [r for r in caplog.records if r.getMessage() == "whatsapp.payload.error_code_unusable"]
        assert len(unusable) == 3 and {r.levelname for r in unusable} == {"WARNING"}


# --- Big bodies are refused before they are read (issue 12, item 6) ------------------------------------------------

NINETY_MB = 90 * 1024 * 1024
CHUNK = 64 * 1024


class PulledBytes:
    """A request body that counts how much of it the server pulled."""

    def __init__(self, total: int, chunk: int = CHUNK) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self):
        while self.pulled < self.total:
            size = min(self.chunk, self.total - self.pulled)
            self.pulled += size
            yield b" " * size


async def test_a_declared_length_over_4_mib_is_refused_before_the_body_is_read(app):
    body = PulledBytes(NINETY_MB)
    headers = {"Content-Type": "application/json", "Content-Length": str(NINETY_MB)}
    _, response = await app.asgi_client.post("/webhooks/whatsapp/webhook", content=body, headers=headers)
    assert (response.status, response.json) == (413, {"error": "payload_too_large", "message": "The body is larger than 4 MiB."})
    assert body.pulled == 0
    assert count("SELECT COUNT(*) AS n FROM inbox_messages") == 0


async def test_a_chunked_body_without_length_is_read_only_up_to_4_mib(app):
    body = PulledBytes(NINETY_MB)  # no Content-Length: httpx sends it chunked
    _, response = await app.asgi_client.post("/webhooks/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": "sha256=0"})
    assert (response.status, response.json["error"]) == (413, "payload_too_large")
    assert MAX_BODY_BYTES < body.pulled <= MAX_BODY_BYTES + CHUNK
    assert count("SELECT COUNT(*) AS n FROM inbox_messages") == 0


async def test_a_body_of_exactly_4_mib_is_read_and_checked(app):
    padding = MAX_BODY_BYTES - len(b'{"object":"whatsapp_business_account","entry":[]}')
    body = b'{"object":"whatsapp_business_account","entry":[]' + b" " * padding + b"}"
    assert len(body) == MAX_BODY_BYTES
    response = await post(app, body)
    assert (response.status, response.json) == (200, {"status": "received", "new": 0, "duplicates": 0})


@contextlib.asynccontextmanager
async def rasa_server(monkeypatch, **settings):
    """The app `rasa run` builds (rasa.core.run.configure_app) with our channel, on a loopback port."""
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    monkeypatch.setattr(Sanic, "test_mode", True)  # one "rasa_core_no_api" app per test
    rasa_app = configure_app([WhatsAppInput(process_messages=False)], enable_api=False, port=0)

    @rasa_app.post("/buffered")
    async def buffered(request):
        return sanic_response.json({"bytes": len(request.body)})

    server = await rasa_app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield server.server.sockets[0].getsockname()[1]
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def exchange(port: int, head: str, body_parts: Iterable[bytes] = ()) -> Tuple[int, Dict[str, str], bytes, int]:
    """Send a raw HTTP/1.1 request while reading the answer until the server closes.

    The body is written by a task of its own, like a client that keeps sending whatever the server
    says; returns (status, headers, body, bytes of the body sent before the server hung up).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.replace("\n", "\r\n").encode() + b"\r\n")
    sent = 0

    async def send_body() -> None:
        nonlocal sent
        with contextlib.suppress(ConnectionError):
            for part in body_parts:
                writer.write(part)
                await writer.drain()
                sent += len(part)

    sender = asyncio.create_task(send_body())
    raw = bytearray()
    with contextlib.suppress(ConnectionResetError):
        while chunk := await asyncio.wait_for(reader.read(65536), timeout=30):  # a deadline, not a pause
            raw += chunk
    sender.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sender
    writer.close()
    head_bytes, _, body = bytes(raw).partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body, sent


WEBHOOK_HEAD = "POST /webhooks/whatsapp/webhook HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nConnection: close\n"


async def test_the_rasa_server_answers_a_huge_declared_length_with_413_without_waiting_for_the_body(monkeypatch):
    async with rasa_server(monkeypatch) as port:
        status, headers, body, _ = await exchange(port, WEBHOOK_HEAD + f"Content-Length: {NINETY_MB}\n", [b'{"entry": []}'])
    assert (status, headers["content-type"], json.loads(body)) == (
        413, "application/json", {"error": "payload_too_large", "message": "The body is larger than 4 MiB."}
    )
    assert count("SELECT COUNT(*) AS n FROM inbox_messages") == 0


async def test_the_rasa_server_stops_reading_an_endless_chunked_body_after_4_mib(monkeypatch):
    chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    endless = itertools.repeat(chunk, NINETY_MB // CHUNK)  # no Content-Length, and no last chunk in sight
    async with rasa_server(monkeypatch) as port:
        status, _, body, sent = await exchange(port, WEBHOOK_HEAD + "Transfer-Encoding: chunked\n", endless)
    assert (status, json.loads(body)["error"]) == (413, "payload_too_large")
    assert sent < NINETY_MB  # the server hung up long before the client was done


async def test_server_max_body_bytes_caps_every_other_route(monkeypatch):
    head = "POST /buffered HTTP/1.1\nHost: 127.0.0.1\nConnection: close\nContent-Length: {}\n"
    async with rasa_server(monkeypatch, SERVER_MAX_BODY_BYTES="1000") as port:
        fits = await exchange(port, head.format(1000), [b"x" * 1000])
        too_big = await exchange(port, head.format(1001), [b"x" * 1001])
    assert (fits[0], json.loads(fits[2])) == (200, {"bytes": 1000})
    assert too_big[0] == 413


def test_the_server_cap_defaults_to_the_webhooks_4_mib():
    assert get_settings().server_max_body_bytes == MAX_BODY_BYTES


# --- Found by tests/channels/test_whatsapp_fuzz.py: values PostgreSQL refuses ----------------------------------------

LONG_ID = "".join(hashlib.sha256(bytes([n])).hexdigest() for n in range(48))  # 3 kB, too big for a unique index


async def test_nul_escapes_are_stored_as_replacement_characters(app, on_each_database):
    item = text_item("wamid.nul\x00", "1795529100")
    item["text"]["body"] = "before\x00after"
    body = delivery_body([item]).replace(b"Jo\\u00e3o Silva", b"Jo\\u0000o")  # json.dumps escapes NUL as \u0000
    assert body.count(b"\\u0000") == 3
    response = await post(app, body)
    assert (response.status, response.json["new"]) == (200, 1)
    database = get_runtime().database
    assert list(inbox_rows()) == ["wamid.nul\ufffd"]
    assert database.execute("SELECT customer_name FROM conversations") == [{"customer_name": "Jo\ufffdo"}]
    [row] = pending_rows(database, JOAO)
    assert row.message.text == "before\ufffdafter"


async def test_a_message_or_status_whose_id_cannot_be_indexed_is_skipped_and_the_rest_stored(app, on_each_database, caplog):
    queue_reply("wamid.out.fine", conversation_id=JOAO)
    long_sender = {**text_item("wamid.in.long.sender", "1795529102"), "from": LONG_ID}
    messages = [text_item(LONG_ID, "1795529100"), text_item("wamid.in.fine", "1795529101"), long_sender]
    statuses = [
        {"id": LONG_ID, "status": "read", "timestamp": "1795529200"},
        {"id": "wamid.out.fine", "status": LONG_ID, "timestamp": "1795529200"},
        {"id": "wamid.out.fine", "status": "delivered", "timestamp": "1795529200"},
    ]
    with caplog.at_level(logging.WARNING):
        response = await post(app, delivery_body(messages, statuses))
    assert (response.status, response.json) == (200, {"status": "received", "new": 1, "duplicates": 0})
    assert list(inbox_rows()) == ["wamid.in.fine"]
    assert get_runtime().database.execute("SELECT wamid, status FROM delivery_statuses") == [{"wamid": "wamid.out.fine", "status": "delivered"}]
    skipped = [(r.getMessage(), r.reason) for r in caplog.records if r.getMessage().endswith("_skipped")]
    assert skipped == [
        ("whatsapp.payload.message_skipped", "id_too_long"),
        ("whatsapp.payload.message_skipped", "sender_too_long"),
        ("whatsapp.payload.status_skipped", "id_too_long"),
        ("whatsapp.payload.status_skipped", "status_too_long"),
    ]
    assert LONG_ID not in caplog.text


async def test_a_body_nested_too_deeply_is_malformed_before_anything_is_stored(app):
    item = text_item("wamid.deep", "1795529100")
    deep = {"x": 1}
    for _ in range(70):
        deep = {"x": deep}
    item["referral"] = deep
    response = await post(app, delivery_body([item]))
    assert (response.status, response.json) == (400, {"error": "malformed_payload", "message": "body is nested too deeply"})
    assert inbox_rows() == {}
