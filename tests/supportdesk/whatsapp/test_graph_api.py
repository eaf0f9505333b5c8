"""The real Graph API client against the loopback fake: request shapes, limits, every error class."""

import json
import logging

import pytest

from supportdesk.whatsapp.graph_api import GraphApiClient, MessageLimitError
from supportdesk.whatsapp.graph_errors import (
    AuthorizationError,
    RecipientError,
    ReEngagementError,
    RequestError,
    ServerError,
    ThrottlingError,
    TransportError,
)
from supportdesk.whatsapp.rendering import text_message
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fixture_files import PHONE_NUMBER_ID, fixture_bytes

CUSTOMER = "16315551181"


@pytest.fixture
def fake():
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
async def client(fake):
    graph = GraphApiClient(fake.url + "/v24.0", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=2.0)
    yield graph
    await graph.close()


async def send_text(graph, body):
    """Send `body` to the test customer as the app's text messages are built."""
    return await graph.send_message(CUSTOMER, text_message(body))


def fixture_json(name):
    return json.loads(fixture_bytes(name))


def without_envelope(request_body):
    """A request fixture turned back into the message object callers pass."""
    return {key: value for key, value in request_body.items() if key not in ("messaging_product", "recipient_type", "to")}


def everything_logged(caplog):
    """Every record's message and fields (the `extra` data included), as one string."""
    return "\n".join(json.dumps(record.__dict__, default=str, ensure_ascii=False) for record in caplog.records)


def test_no_session_is_opened_before_the_first_call():
    graph = GraphApiClient("https://graph.example/v24.0", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN)
    assert graph._session is None
    assert FAKE_ACCESS_TOKEN not in repr(graph)


async def test_text_send_has_the_fixture_shape_and_returns_the_wamid(fake, client):
    expected = fixture_json("send_text_request.json")
    body = expected["text"]["body"]
    wamid = await client.send_message(expected["to"], text_message(body), reply_to=expected["context"]["message_id"])
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", f"/v24.0/{PHONE_NUMBER_ID}/messages")
    assert request.headers["Authorization"] == f"Bearer {FAKE_ACCESS_TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.json() == expected
    assert fake.issued[wamid] == expected


async def test_each_send_returns_its_own_wamid_and_a_base_url_without_version_works(fake):
    graph = GraphApiClient(fake.url + "/", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=2.0)
    try:
        first = await send_text(graph, "one")
        second = await send_text(graph, "two")
    finally:
        await graph.close()
    assert first != second and {first, second} == set(fake.issued)
    assert [request.path for request in fake.requests] == [f"/{PHONE_NUMBER_ID}/messages"] * 2


async def test_send_message_adds_only_the_envelope_context_and_callback(fake, client):
    message = {"type": "text", "text": {"body": "hi", "preview_url": False}}
    await client.send_message(CUSTOMER, message, reply_to="wamid.IN1", callback_data="outbox:7")
    await client.send_message(CUSTOMER, message)
    with_extras, plain = fake.sent_messages()
    envelope = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER}
    assert plain == {**envelope, **message}
    assert with_extras == {**envelope, **message, "context": {"message_id": "wamid.IN1"},
                           "biz_opaque_callback_data": "outbox:7"}


@pytest.mark.parametrize("fixture", ["send_interactive_buttons_request.json", "send_list_request.json"])
async def test_interactive_fixtures_pass_unchanged(fake, client, fixture):
    expected = fixture_json(fixture)
    wamid = await client.send_message(expected["to"], without_envelope(expected))
    assert fake.sent_messages() == [expected] and wamid.startswith("wamid.FAKE")


def buttons(*titles, header=None, footer=None, body="Pick one"):
    interactive = {"type": "button", "body": {"text": body},
                   "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{n}", "title": t}} for n, t in enumerate(titles)]}}
    if header is not None:
        interactive["header"] = {"type": "text", "text": header}
    if footer is not None:
        interactive["footer"] = {"text": footer}
    return {"type": "interactive", "interactive": interactive}


def listing(*row_titles, sections=1):
    rows = [{"id": f"r{n}", "title": title} for n, title in enumerate(row_titles)]
    chunk = -(-len(rows) // sections)
    parts = [{"title": f"Part {n}", "rows": rows[n * chunk:(n + 1) * chunk]} for n in range(sections)]
    return {"type": "interactive",
            "interactive": {"type": "list", "body": {"text": "Pick"}, "action": {"button": "Options", "sections": parts}}}


@pytest.mark.parametrize(
    "message",
    [
        {"type": "text", "text": {"body": "x" * 4096}},
        buttons("A" * 20, "B", "C", header="h" * 60, footer="f" * 60, body="y" * 1024),
        listing(*[f"Row {n}".ljust(24, ".") for n in range(10)], sections=2),
    ],
    ids=["text-4096", "buttons-at-limits", "list-10-rows"],
)
async def test_messages_exactly_at_the_limits_are_sent(fake, client, message):
    await client.send_message(CUSTOMER, message)
    assert len(fake.sent_messages()) == 1


@pytest.mark.parametrize(
    "message, callback_data",
    [
        ({"type": "text", "text": {"body": "x" * 4097}}, None),
        ({"type": "text", "text": {"body": ""}}, None),
        ({"type": "text", "text": {"body": " \n "}}, None),
        (buttons("1", "2", "3", "4"), None),
        (buttons(), None),
        (buttons("A title longer than 20"), None),
        (buttons("Same", "Same"), None),
        (buttons("Yes", header="h" * 61), None),
        (buttons("Yes", footer="f" * 61), None),
        (buttons("Yes", body="y" * 1025), None),
        (listing(*[f"Row {n}" for n in range(11)]), None),
        (listing(*[f"Row {n}" for n in range(11)], sections=3), None),
        (listing("r" * 25), None),
        ({"type": "text", "text": {"body": "fine"}}, "c" * 513),
    ],
    ids=["text-4097", "text-empty", "text-blank", "4-buttons", "0-buttons", "button-title-21", "duplicate-titles",
         "header-61", "footer-61", "body-1025", "11-rows", "11-rows-in-3-sections", "row-title-25", "callback-513"],
)
async def test_limits_are_refused_before_any_request(fake, client, message, callback_data):
    with pytest.raises(MessageLimitError):
        await client.send_message(CUSTOMER, message, callback_data=callback_data)
    assert fake.requests == []


@pytest.mark.parametrize(
    "fixture, status, cls",
    [
        ("send_error_130429.json", 400, ThrottlingError),
        ("send_error_131000.json", 500, ServerError),
        ("send_error_131026.json", 400, RecipientError),
        ("send_error_131047.json", 400, ReEngagementError),
        ("send_error_100_invalid_param.json", 400, RequestError),
    ],
)
async def test_each_error_fixture_raises_its_class(fake, client, fixture, status, cls, caplog):
    fake.script_error(fixture, status=status)
    with pytest.raises(cls) as raised:
        await send_text(client, "hello")
    error = fixture_json(fixture)["error"]
    assert (raised.value.code, raised.value.fbtrace_id, raised.value.http_status) == (
        error["code"], error["fbtrace_id"], status
    )
    [record] = [record for record in caplog.records if record.msg == "whatsapp.graph.error"]
    assert (record.levelno, record.code, record.fbtrace_id, record.recipient) == (
        logging.WARNING, error["code"], error["fbtrace_id"], "•••••••1181"
    )
    assert (await send_text(client, "hello again")).startswith("wamid.")  # one scripted answer only


async def test_bad_token_is_an_authorization_error_logged_once_without_secrets(fake, caplog):
    graph = GraphApiClient(fake.url + "/v24.0", PHONE_NUMBER_ID, "EAAGwrongtoken999", timeout_seconds=2.0)
    try:
        for _ in range(2):
            with pytest.raises(AuthorizationError) as raised:
                await send_text(graph, "hello")
        assert (raised.value.code, raised.value.http_status, raised.value.transient) == (190, 401, False)
    finally:
        await graph.close()
    alerts = [record for record in caplog.records if record.msg == "whatsapp.graph.auth_failed"]
    assert len(alerts) == 1 and alerts[0].levelno == logging.ERROR
    assert "WHATSAPP_ACCESS_TOKEN" in alerts[0].action
    logged = everything_logged(caplog)
    assert "EAAGwrongtoken999" not in logged and CUSTOMER not in logged and "Bearer" not in logged


async def test_slow_answer_times_out_as_a_transport_error(fake):
    graph = GraphApiClient(fake.url, PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=0.2)
    fake.script_delay(1.0)
    try:
        with pytest.raises(TransportError) as raised:
            await send_text(graph, "hello")
        assert raised.value.transient and raised.value.code is None
    finally:
        await graph.close()


async def test_server_error_without_json_is_a_transient_server_error(fake, client):
    fake.script_server_error()
    with pytest.raises(ServerError) as raised:
        await send_text(client, "hello")
    assert (raised.value.http_status, raised.value.code, raised.value.transient) == (500, None, True)


async def test_an_unreachable_server_is_a_transport_error(fake, caplog):
    nowhere = GraphApiClient("http://127.0.0.1:9", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=1.0)
    try:
        with pytest.raises(TransportError):
            await send_text(nowhere, "hello")
    finally:
        await nowhere.close()
    assert [record.msg for record in caplog.records] == ["whatsapp.graph.transport_failed"]
    assert CUSTOMER not in everything_logged(caplog)


async def test_mark_read_with_and_without_typing_matches_the_fixtures(fake, client):
    read = fixture_json("send_mark_read_request.json")
    typing = fixture_json("send_typing_indicator_request.json")
    assert await client.mark_read(read["message_id"]) is None
    await client.mark_read(typing["message_id"], typing=True)
    assert fake.read_receipts() == [read, typing]
    assert fake.sent_messages() == [] and fake.issued == {}
    assert {request.path for request in fake.requests} == {f"/v24.0/{PHONE_NUMBER_ID}/messages"}
