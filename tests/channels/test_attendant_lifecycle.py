"""Resolve through the attendant API: closed, the satisfaction question, 409s, and the customer's return to the bot."""

import json

import pytest

from supportdesk.messaging.inbox import store_delivery
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.payload import parse_webhook
from tests.channels.attendant_client import JOAO, SECRET, a_customer, attendant_app, auth, call, outbox_messages
from tests.fixture_files import fixture_bytes


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    reset_settings_cache()
    return attendant_app()


def streamed():
    rows = get_runtime().database.execute("SELECT event, data FROM stream_events ORDER BY id")
    return [(row["event"], json.loads(row["data"]).get("status")) for row in rows]


async def test_resolve_closes_asks_how_satisfied_and_the_next_message_goes_back_to_the_bot(app):
    a_customer(status="human", holder="ana")
    resolved = await call(app, "POST", f"/conversations/{JOAO}/resolve", auth("ana"))
    assert (resolved.status, resolved.json["status"]) == (200, "closed")
    [question] = outbox_messages()
    assert question["type"] == "interactive"
    assert question["interactive"]["body"]["text"] == "Thanks for talking to us! How satisfied are you with the help you got?"
    titles = [button["reply"]["title"] for button in question["interactive"]["action"]["buttons"]]
    assert titles == ["😀 Satisfied", "😐 Okay", "🙁 Not satisfied"]
    assert streamed() == [("conversation.updated", "closed"), ("message.created", "pending")]
    store_delivery(get_runtime().database, parse_webhook(fixture_bytes("inbound_text_unicode.json")))
    assert (await call(app, "GET", f"/conversations/{JOAO}", auth())).json["status"] == "bot"
    assert streamed()[-1] == ("conversation.updated", "bot")


async def test_resolve_after_the_window_asks_nothing(app):
    a_customer(status="human", holder="ana", wrote_hours_ago=25)
    resolved = await call(app, "POST", f"/conversations/{JOAO}/resolve", auth("ana"))
    assert (resolved.status, resolved.json["status"]) == (200, "closed")
    assert outbox_messages() == []
    assert get_runtime().database.execute("SELECT COUNT(*) AS n FROM satisfaction") == [{"n": 0}]


async def test_resolve_is_409_for_another_attendant_but_an_admin_may_and_404_for_nobody(app):
    a_customer(status="human", holder="ana")
    refused = await call(app, "POST", f"/conversations/{JOAO}/resolve", auth("bruno"))
    assert (refused.status, refused.json["error"]) == (409, "held_by_other")
    assert (await call(app, "POST", f"/conversations/{JOAO}/resolve", auth("boss", "admin"))).json["status"] == "closed"
    assert (await call(app, "POST", "/conversations/nobody/resolve", auth())).status == 404
