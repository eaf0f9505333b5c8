"""The real Graph API client against the loopback fake: request shapes, limits, every error class."""

import json

import pytest

from supportdesk.graph_api import GraphApiClient, MessageLimitError
from supportdesk.graph_errors import (
    AuthorizationError,
    ReEngagementError,
    RecipientError,
    RequestError,
    ServerError,
    ThrottlingError,
    TransportError,
)
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


def fixture_json(name):
    return json.loads(fixture_bytes(name))


async def test_text_send_has_the_fixture_shape_and_returns_the_wamid(fake, client):
    expected = fixture_json("send_text_request.json")
    wamid = await client.send_text(CUSTOMER, expected["text"]["body"], reply_to=expected["context"]["message_id"])
    assert wamid.startswith("wamid.FAKE")
    [request] = fake.requests
    assert request.path == f"/v24.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {FAKE_ACCESS_TOKEN}"
    assert request.json() == expected


async def test_interactive_messages_pass_as_given_plus_envelope_and_callback(fake, client):
    for name in ("send_interactive_buttons_request.json", "send_list_request.json"):
        expected = fixture_json(name)
        message = {key: value for key, value in expected.items() if key not in ("messaging_product", "recipient_type", "to")}
        await client.send_message(expected["to"], message, callback_data="outbox:7")
        body = fake.requests[-1].json()
        assert body == {**expected, "biz_opaque_callback_data": "outbox:7"}


@pytest.mark.parametrize(
    "message",
    [
        {"type": "text", "text": {"body": "x" * 4097}},
        {"type": "text", "text": {"body": ""}},
        {"type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": str(n), "title": f"Option {n}"}} for n in range(4)]}}},
        {"type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "A title longer than twenty"}}]}}},
        {"type": "interactive", "interactive": {"type": "list", "body": {"text": "Pick"}, "action": {"button": "Options",
            "sections": [{"title": "All", "rows": [{"id": str(n), "title": f"Row {n}"} for n in range(11)]}]}}},
        {"type": "interactive", "interactive": {"type": "button", "body": {"text": "y" * 1025}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "Yes"}}]}}},
    ],
)
async def test_limits_are_refused_before_any_request(fake, client, message):
    with pytest.raises(MessageLimitError):
        await client.send_message(CUSTOMER, message)
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
async def test_each_error_fixture_raises_its_class(fake, client, fixture, status, cls):
    fake.script_error(fixture, status=status)
    with pytest.raises(cls) as raised:
        await client.send_text(CUSTOMER, "hello")
    assert raised.value.fbtrace_id == fixture_json(fixture)["error"]["fbtrace_id"]
    assert (await client.send_text(CUSTOMER, "hello again")).startswith("wamid.")  # one scripted answer only


async def test_bad_token_is_an_authorization_error_logged_once_without_the_token(fake, caplog):
    graph = GraphApiClient(fake.url + "/v24.0", PHONE_NUMBER_ID, "EAAGwrongtoken999", timeout_seconds=2.0)
    try:
        for _ in range(2):
            with pytest.raises(AuthorizationError) as raised:
                await graph.send_text(CUSTOMER, "hello")
        assert raised.value.code == 190
    finally:
        await graph.close()
    alerts = [record for record in caplog.records if record.msg == "whatsapp.graph.auth_failed"]
    assert len(alerts) == 1
    assert "EAAGwrongtoken999" not in caplog.text and CUSTOMER not in caplog.text


async def test_slow_answer_times_out_as_a_transport_error(fake):
    graph = GraphApiClient(fake.url, PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=0.3)
    fake.script_delay(1.5)
    try:
        with pytest.raises(TransportError) as raised:
            await graph.send_text(CUSTOMER, "hello")
        assert raised.value.transient
    finally:
        await graph.close()


async def test_server_error_without_json_and_unreachable_server(fake, client):
    fake.script_server_error()
    with pytest.raises(ServerError) as raised:
        await client.send_text(CUSTOMER, "hello")
    assert raised.value.http_status == 500 and raised.value.transient
    nowhere = GraphApiClient("http://127.0.0.1:9", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=1.0)
    try:
        with pytest.raises(TransportError):
            await nowhere.send_text(CUSTOMER, "hello")
    finally:
        await nowhere.close()


async def test_mark_read_with_and_without_typing_matches_the_fixtures(fake, client):
    read = fixture_json("send_mark_read_request.json")
    typing = fixture_json("send_typing_indicator_request.json")
    await client.mark_read(read["message_id"])
    await client.mark_read(typing["message_id"], typing=True)
    assert fake.read_receipts() == [read, typing]
    assert fake.sent_messages() == []


async def test_media_lookup_and_media_sends(fake, client):
    media = await client.get_media("1066183251789124")
    assert media["mime_type"] == "image/jpeg" and media["id"] == "1066183251789124"
    await client.send_image(CUSTOMER, "https://example.com/menu.jpg", caption="Our menu")
    await client.send_document(CUSTOMER, "998877", filename="prices.pdf")
    image, document = fake.sent_messages()
    assert image["image"] == {"link": "https://example.com/menu.jpg", "caption": "Our menu"}
    assert document["document"] == {"id": "998877", "filename": "prices.pdf"}
