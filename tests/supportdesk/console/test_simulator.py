"""The simulator's pure logic: customer messages become Cloud API webhooks; the outbox becomes the chat."""

from __future__ import annotations

import json
import time

import pytest

from supportdesk.console import simulator
from supportdesk.console.simulator import CustomerMessage, InvalidSimulatorMessage, parse_customer_message
from supportdesk.messaging import outbox
from supportdesk.platform.settings import Settings
from supportdesk.whatsapp.payload import parse_webhook
from tests.fixture_files import PHONE_NUMBER_ID, fixture_bytes

CUSTOMER = "16315551181"


def key_shape(value):
    """The nested key structure of a JSON value (lists by their first item)."""
    if isinstance(value, dict):
        return {key: key_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [key_shape(value[0])] if value else []
    return type(value).__name__


def drop_keys(shape, names):
    if isinstance(shape, dict):
        return {key: drop_keys(item, names) for key, item in shape.items() if key not in names}
    if isinstance(shape, list):
        return [drop_keys(item, names) for item in shape]
    return shape


# Keys Meta adds that the simulator has no value for (business-scoped user ids, reply context).
OPTIONAL_KEYS = {"user_id", "from_user_id", "context"}


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("inbound_text.json", CustomerMessage(CUSTOMER, "Kerry Fisher", text="hello")),
        (
            "inbound_interactive_button_reply.json",
            CustomerMessage(CUSTOMER, "Kerry Fisher", reply_id="talk_to_human", reply_title="Talk to a person"),
        ),
    ],
)
def test_webhook_body_has_the_fixture_shape(fixture, message):
    expected = drop_keys(key_shape(json.loads(fixture_bytes(fixture))), OPTIONAL_KEYS)
    built = simulator.build_webhook_body(message, PHONE_NUMBER_ID, "wamid.X", 1795529100)
    assert key_shape(built) == expected


def test_text_webhook_parses_to_the_customer_message():
    message = CustomerMessage(CUSTOMER, "Kerry Fisher", text="I want to talk to a person")
    body = simulator.encode_body(simulator.build_webhook_body(message, PHONE_NUMBER_ID, "wamid.SIM1", 1795529100))
    [parsed] = parse_webhook(body).messages
    assert (parsed.wamid, parsed.customer_id, parsed.profile_name, parsed.phone_number_id) == (
        "wamid.SIM1", CUSTOMER, "Kerry Fisher", PHONE_NUMBER_ID)
    assert parsed.text == "I want to talk to a person"


@pytest.mark.parametrize(("kind", "raw_type"), [("button", "button_reply"), ("list", "list_reply")])
def test_reply_webhooks_carry_the_payload_as_id(kind, raw_type):
    message = CustomerMessage(CUSTOMER, "Kerry", reply_id="/request_human", reply_title="Talk to a person", reply_kind=kind)
    body = simulator.build_webhook_body(message, None, "wamid.SIM2", 1795529100)
    item = body["entry"][0]["changes"][0]["value"]["messages"][0]
    assert item["interactive"] == {"type": raw_type, raw_type: {"id": "/request_human", "title": "Talk to a person"}}
    assert body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] == simulator.DEFAULT_PHONE_NUMBER_ID
    [parsed] = parse_webhook(simulator.encode_body(body)).messages
    assert (parsed.reply.type, parsed.reply.id, parsed.reply.title) == (raw_type, "/request_human", "Talk to a person")
    assert parsed.user_text == "/request_human"


def test_each_message_gets_its_own_wamid():
    assert simulator.new_wamid() != simulator.new_wamid()
    assert simulator.new_wamid().startswith("wamid.")


def test_encoded_body_keeps_unicode_as_utf8():
    message = CustomerMessage(CUSTOMER, "João", text="olá 👋")
    body = simulator.encode_body(simulator.build_webhook_body(message, None, "wamid.U", 1))
    assert "olá 👋".encode() in body and "João".encode() in body


def test_parse_text_message_and_default_name():
    assert parse_customer_message({"wa_id": CUSTOMER, "text": "hi"}) == CustomerMessage(
        CUSTOMER, simulator.DEFAULT_CUSTOMER_NAME, text="hi")
    assert parse_customer_message({"wa_id": CUSTOMER, "name": " Ana ", "text": "hi"}).name == "Ana"


def test_parse_reply():
    parsed = parse_customer_message({"wa_id": CUSTOMER, "reply": {"id": "/deny", "title": "No, thanks"}, "kind": "list"})
    assert (parsed.reply_id, parsed.reply_title, parsed.reply_kind, parsed.text) == ("/deny", "No, thanks", "list", None)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"text": "hi"}, "invalid_wa_id"),
        ({"wa_id": "+16315551181", "text": "hi"}, "invalid_wa_id"),
        ({"wa_id": "0123456", "text": "hi"}, "invalid_wa_id"),
        ({"wa_id": "12345", "text": "hi"}, "invalid_wa_id"),
        ({"wa_id": "1234567890123456", "text": "hi"}, "invalid_wa_id"),
        ({"wa_id": 16315551181, "text": "hi"}, "invalid_wa_id"),
        ({"wa_id": "../../etc", "text": "hi"}, "invalid_wa_id"),
        ({"wa_id": CUSTOMER}, "empty_text"),
        ({"wa_id": CUSTOMER, "text": "   "}, "empty_text"),
        ({"wa_id": CUSTOMER, "text": "x" * 4097}, "invalid_text"),
        ({"wa_id": CUSTOMER, "text": 5}, "invalid_text"),
        ({"wa_id": CUSTOMER, "name": "n" * 101, "text": "hi"}, "invalid_name"),
        ({"wa_id": CUSTOMER, "reply": "yes"}, "invalid_reply"),
        ({"wa_id": CUSTOMER, "reply": {"id": "/deny"}}, "invalid_reply"),
        ({"wa_id": CUSTOMER, "reply": {"id": "/deny", "title": "No"}, "kind": "carousel"}, "invalid_reply"),
        ({"wa_id": CUSTOMER, "reply": {"id": "x" * 257, "title": "No"}}, "invalid_reply"),
    ],
)
def test_invalid_messages_are_refused_with_a_code(data, code):
    with pytest.raises(InvalidSimulatorMessage) as refused:
        parse_customer_message(data)
    assert refused.value.code == code and str(refused.value)


@pytest.mark.parametrize(
    ("enabled", "token", "phone", "active"),
    [(True, None, None, True), (True, None, "1065", True), (False, None, None, False), (True, "tok", "1065", False)],
)
def test_simulator_runs_only_when_asked_and_nothing_is_really_sent(enabled, token, phone, active):
    settings = Settings(simulator_enabled=enabled, whatsapp_access_token=token, whatsapp_phone_number_id=phone)
    assert simulator.simulator_active(settings) is active


def row(id_, state, origin="bot", message=None):
    return {"id": id_, "state": state, "origin": origin, "created_at": 1795529100.0 + id_,
            "message": json.dumps(message or {"type": "text", "text": {"body": f"m{id_}"}})}


def test_visible_messages_skip_what_never_reached_the_phone_and_stop_at_unsent_rows():
    rows = [row(3, "logged"), row(4, "suppressed"), row(5, "sent", "attendant"), row(6, "failed"),
            row(7, "pending"), row(8, "logged")]
    shown, cursor = simulator.visible_messages(rows, 2)
    assert [(m["id"], m["origin"], m["state"]) for m in shown] == [(3, "bot", "logged"), (5, "attendant", "sent")]
    assert shown[0]["message"] == {"type": "text", "text": {"body": "m3"}}
    assert shown[0]["created_at"] == "2026-11-24T14:05:03.000Z"
    assert cursor == 6


def test_visible_messages_keep_the_cursor_when_nothing_is_new():
    assert simulator.visible_messages([], 9) == ([], 9)
    assert simulator.visible_messages([row(10, "sending")], 9) == ([], 9)


def test_outbound_messages_reads_one_customers_outbox(database):
    now = time.time()
    drafts = [
        outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": "hello"}}, "bot", answers_wamid="wamid.A", seq=0),
        outbox.OutboxDraft("5511987654321", {"type": "text", "text": {"body": "other"}}, "bot", answers_wamid="wamid.B"),
        outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": "Hi, Ana here"}}, "attendant", attendant_id="ana"),
    ]
    with database.transaction() as cursor:
        ids = outbox.enqueue(cursor, drafts, now)
    assert simulator.outbound_messages(database, CUSTOMER) == ([], 0)  # still pending: not on the phone yet
    for outbox_id in ids:
        outbox.finish(database, outbox_id, "logged")
    shown, cursor = simulator.outbound_messages(database, CUSTOMER)
    assert [(m["id"], m["origin"], m["message"]["text"]["body"]) for m in shown] == [
        (ids[0], "bot", "hello"), (ids[2], "attendant", "Hi, Ana here")]
    assert cursor == ids[2]
    assert simulator.outbound_messages(database, CUSTOMER, cursor) == ([], cursor)
