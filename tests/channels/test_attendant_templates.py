"""Templates through the attendant API: the approved list, the send, its 400 and 409 answers; the 24-hour window."""

import json

import pytest

from supportdesk.messaging.inbox import store_delivery
from supportdesk.messaging.outbox_sender import OutboxSender
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.payload import parse_webhook
from tests.channels.attendant_client import JOAO, SECRET, a_customer, attendant_app, auth, call, outbox_messages
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fixture_files import PHONE_NUMBER_ID, fixture_bytes

ACCOUNT = "102290129340398"
FOLLOW_UP = {"name": "appointment_follow_up", "language": "pt_BR", "parameters": ["João", "26/11 às 09:00"]}
RENDERED = "Olá João, sobre o seu horário de 26/11 às 09:00: responda esta mensagem para falar com a nossa equipe."


@pytest.fixture
def fake():
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
async def app(fake, monkeypatch):
    for name, value in (
        ("ATTENDANT_JWT_SECRET", SECRET), ("WHATSAPP_ACCESS_TOKEN", FAKE_ACCESS_TOKEN),
        ("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID), ("WHATSAPP_API_URL", fake.url + "/v24.0"),
        ("WHATSAPP_BUSINESS_ACCOUNT_ID", ACCOUNT),
    ):
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    yield attendant_app()
    await get_runtime().graph.close()


async def test_templates_lists_the_approved_ones_across_pages_once_per_cache_period(app, fake):
    first = await call(app, "GET", "/templates", auth())
    assert first.status == 200
    assert first.json == {"templates": [
        {"name": "appointment_follow_up", "language": "pt_BR", "category": "UTILITY", "parameters": 2,
         "body": "Olá {{1}}, sobre o seu horário de {{2}}: responda esta mensagem para falar com a nossa equipe."},
        {"name": "appointment_reminder", "language": "en_US", "category": "UTILITY", "parameters": 2,
         "body": "Hi {{1}}, this is a reminder of your appointment on {{2}}. Reply CHANGE to move it or CANCEL to cancel."},
    ]}
    assert (await call(app, "GET", "/templates", auth())).json == first.json
    assert len(fake.template_listings()) == 2  # two pages, listed once


async def test_without_a_business_account_the_list_is_empty(app, fake, monkeypatch):
    monkeypatch.delenv("WHATSAPP_BUSINESS_ACCOUNT_ID")
    reset_settings_cache()
    await get_runtime().graph.close()
    from supportdesk.runtime import reset_runtime

    reset_runtime()
    answer = await call(app, "GET", "/templates", auth())
    assert (answer.status, answer.json) == (200, {"templates": []})
    assert fake.template_listings() == []


async def test_a_template_reaches_a_customer_after_the_window_and_gives_the_conversation_to_the_caller(app, fake):
    a_customer(wrote_hours_ago=30)
    sent = await call(app, "POST", f"/conversations/{JOAO}/template", auth("ana"), FOLLOW_UP)
    assert sent.status == 202 and sent.json["id"].startswith("out-")
    conversation = (await call(app, "GET", f"/conversations/{JOAO}", auth())).json
    assert (conversation["status"], conversation["assigned_to"], conversation["window_open_until"]) == ("human", "ana", None)
    history = (await call(app, "GET", f"/conversations/{JOAO}/messages", auth())).json["messages"]
    assert [(m["sender"], m["type"], m["text"], m["attendant_id"]) for m in history] == [
        ("attendant", "template", RENDERED, "ana")
    ]
    runtime = get_runtime()
    sender = OutboxSender(runtime.database, runtime.graph, runtime.retry_policy, "test", rng=lambda: 1.0)
    assert await sender.send_due_once() == 1
    expected = {**json.loads(fixture_bytes("send_template_request.json")), "biz_opaque_callback_data": "outbox:1"}
    assert fake.sent_messages() == [expected]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"name": "black_friday_offer", "language": "en_US", "parameters": []}, "unknown_template"),
        ({"name": "appointment_follow_up", "language": "en_US", "parameters": ["a", "b"]}, "unknown_template"),
        ({"name": "appointment_follow_up", "language": "pt_BR", "parameters": ["João"]}, "wrong_parameter_count"),
        ({"name": "appointment_follow_up", "language": "pt_BR", "parameters": "João"}, "invalid_parameters"),
    ],
)
async def test_an_unknown_template_or_wrong_parameters_is_400_and_sends_nothing(app, body, code):
    a_customer()
    answer = await call(app, "POST", f"/conversations/{JOAO}/template", auth(), body)
    assert (answer.status, answer.json["error"]) == (400, code)
    assert outbox_messages() == []


async def test_a_template_is_409_when_another_holds_it_or_the_customer_opted_out_and_404_for_nobody(app):
    a_customer(status="human", holder="bruno")
    held = await call(app, "POST", f"/conversations/{JOAO}/template", auth("ana"), FOLLOW_UP)
    assert (held.status, held.json["error"]) == (409, "held_by_other")
    get_runtime().database.execute("UPDATE conversations SET status = 'bot', assigned_to = NULL, opted_out = 1")
    opted_out = await call(app, "POST", f"/conversations/{JOAO}/template", auth("ana"), FOLLOW_UP)
    assert (opted_out.status, opted_out.json["error"]) == (409, "opted_out")
    assert outbox_messages() == []
    assert (await call(app, "POST", "/conversations/nobody/template", auth(), FOLLOW_UP)).status == 404


async def test_a_reply_after_the_window_is_409_at_once(app):
    a_customer(status="human", holder="ana", wrote_hours_ago=24.1)
    answer = await call(app, "POST", f"/conversations/{JOAO}/messages", auth("ana"), {"text": "Are you there?"})
    assert (answer.status, answer.json["error"]) == (409, "window_closed")
    assert outbox_messages() == []


async def test_a_131047_status_closes_the_window_and_the_next_reply_is_409(app):
    a_customer(status="human", holder="ana")
    first = await call(app, "POST", f"/conversations/{JOAO}/messages", auth("ana"), {"text": "Your repair is ready"})
    assert first.status == 202
    failed = parse_webhook(fixture_bytes("status_failed_131047.json"))
    database = get_runtime().database
    database.execute("UPDATE outbox_messages SET state = 'sent', wamid = ?", (failed.statuses[0].wamid,))
    store_delivery(database, failed)
    assert (await call(app, "GET", f"/conversations/{JOAO}", auth())).json["window_open_until"] is None
    second = await call(app, "POST", f"/conversations/{JOAO}/messages", auth("ana"), {"text": "Hello?"})
    assert (second.status, second.json["error"]) == (409, "window_closed")
    assert len(outbox_messages()) == 1
