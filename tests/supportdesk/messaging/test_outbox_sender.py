"""The send boundary against the fake Graph API: silence, the 24 h window, retries in order, failures kept."""

import time

import pytest

from supportdesk.handoff import state as handoff
from supportdesk.messaging import outbox
from supportdesk.messaging.outbox_sender import OutboxSender
from supportdesk.platform.database import Database
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.schema import migrate
from supportdesk.whatsapp.graph_api import GraphApiClient
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fixture_files import PHONE_NUMBER_ID

CUSTOMER = "16315551181"
POLICY = RetryPolicy(max_attempts=3, base_seconds=0.01, cap_seconds=0.02)


@pytest.fixture
def fake():
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
async def sender(fake, tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'sender.db'}")
    migrate(database)
    graph = GraphApiClient(fake.url, PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=2.0)
    yield OutboxSender(database, graph, POLICY, "test-owner", rng=lambda: 1.0), database
    await graph.close()
    database.close()


def customer_wrote(database, minutes_ago: float = 1.0) -> None:
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO conversations (id, last_inbound_at, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (CUSTOMER, now - minutes_ago * 60, now, now),
        )


def queue(database, *texts, origin="bot", response_name=None):
    drafts = [
        outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": text}}, origin, answers_wamid=f"wamid.in.{text}" if origin == "bot" else None,
                           response_name=response_name)
        for text in texts
    ]
    with database.transaction() as cursor:
        return outbox.enqueue(cursor, drafts, time.time())


def states(database):
    return [(row["state"], row["failure_reason"]) for row in database.execute("SELECT state, failure_reason FROM outbox_messages ORDER BY id")]


async def drain(sender, rounds=20):
    for _ in range(rounds):
        await sender.send_due_once()
        time.sleep(0.03)


async def test_replies_are_sent_in_order_with_their_wamid(sender, fake):
    sender, database = sender
    customer_wrote(database)
    queue(database, "one", "two", "three")
    await drain(sender)
    assert [body["text"]["body"] for body in fake.sent_messages()] == ["one", "two", "three"]
    rows = database.execute("SELECT state, wamid FROM outbox_messages ORDER BY id")
    assert all(row["state"] == "sent" and row["wamid"].startswith("wamid.FAKE") for row in rows)


async def test_throttling_is_retried_and_later_replies_wait_their_turn(sender, fake):
    sender, database = sender
    customer_wrote(database)
    fake.script_error("send_error_130429.json", status=400, times=2)
    queue(database, "first", "second")
    await drain(sender)
    bodies = [body["text"]["body"] for body in fake.sent_messages()]
    assert bodies == ["first", "first", "first", "second"]  # two throttled attempts, then in order
    assert states(database) == [("sent", None), ("sent", None)]
    assert [row["attempts"] for row in database.execute("SELECT attempts FROM outbox_messages ORDER BY id")] == [3, 1]


async def test_permanent_errors_fail_once_with_a_visible_reason(sender, fake):
    sender, database = sender
    customer_wrote(database)
    fake.script_error("send_error_131026.json", status=400)
    queue(database, "to nobody", origin="attendant")
    await drain(sender)
    assert len(fake.sent_messages()) == 1
    assert states(database) == [("failed", "undeliverable")]
    event = database.execute("SELECT data FROM stream_events WHERE event = 'message.status'")[-1]
    assert '"failed"' in event["data"] and "undeliverable" in event["data"]


async def test_transient_errors_give_up_after_the_last_attempt(sender, fake):
    sender, database = sender
    customer_wrote(database)
    fake.script_server_error(times=5)
    queue(database, "unlucky")
    await drain(sender)
    assert len(fake.sent_messages()) == POLICY.max_attempts
    assert states(database) == [("failed", "server_error")]


async def test_bot_is_silent_while_a_person_holds_the_conversation(sender, fake):
    sender, database = sender
    customer_wrote(database)
    handoff.request_handoff(database, CUSTOMER, "asked", handoff.HandoffTimeouts())
    queue(database, "holding message", response_name="utter_handoff_queued")
    queue(database, "late bot answer")
    queue(database, "attendant text", origin="attendant")
    await drain(sender)
    assert [body["text"]["body"] for body in fake.sent_messages()] == ["holding message", "attendant text"]
    assert states(database) == [("sent", None), ("suppressed", "conversation_waiting"), ("sent", None)]


async def test_nothing_free_form_is_attempted_outside_the_24_hour_window(sender, fake):
    sender, database = sender
    customer_wrote(database, minutes_ago=25 * 60)
    queue(database, "too late")
    await drain(sender)
    assert fake.sent_messages() == []
    assert states(database) == [("failed", "window_closed")]


async def test_an_expired_token_keeps_the_queue(fake, tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'token.db'}")
    migrate(database)
    graph = GraphApiClient(fake.url, PHONE_NUMBER_ID, "EAAGexpired", timeout_seconds=2.0)
    sender = OutboxSender(database, graph, POLICY, "owner")
    try:
        customer_wrote(database)
        queue(database, "waiting for a new token")
        await drain(sender, rounds=3)
        assert states(database) == [("pending", "access_token_invalid")]
    finally:
        await graph.close()
        database.close()
