"""The send boundary against the fake Graph API: silence, the 24 h window, retries in order, failures kept.

Pacing and Meta's rate limits are tested with the pacer on a clock the test moves; the outbox keeps
its times in the database, so "time passes" for it by moving every stored next attempt earlier.
"""

import time

import pytest

from supportdesk.handoff import state as handoff
from supportdesk.messaging import outbox
from supportdesk.messaging.outbox_sender import OutboxSender
from supportdesk.messaging.send_pacing import SendPacer
from supportdesk.platform.database import Database
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.schema import migrate
from supportdesk.whatsapp.graph_api import GraphApiClient
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, PAIR_RATE_LIMIT, THROUGHPUT_LIMIT, FakeGraphApi
from tests.fixture_files import PHONE_NUMBER_ID

CUSTOMER = "16315551181"
OTHER_CUSTOMER = "16315550000"
POLICY = RetryPolicy(max_attempts=3, base_seconds=0.01, cap_seconds=0.02)
NUMBER_BACKOFF = RetryPolicy(max_attempts=3, base_seconds=1.0, cap_seconds=60.0)


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


class FakeClock:
    """The pacer's clock; only the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def paced(fake, tmp_path):
    """A sender whose pacer runs on a FakeClock; call it with the pacer's limits."""
    database = Database(f"sqlite:///{tmp_path / 'paced.db'}")
    migrate(database)
    graph = GraphApiClient(fake.url, PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=2.0)
    clock = FakeClock()

    def build(messages_per_second=80.0, pair_burst=3):
        pacer = SendPacer(messages_per_second, pair_burst, NUMBER_BACKOFF, clock=clock, rng=lambda: 1.0)
        return OutboxSender(database, graph, POLICY, "test-owner", rng=lambda: 1.0, pacer=pacer), database, clock

    yield build
    await graph.close()
    database.close()


def let_time_pass(database, clock: FakeClock, seconds: float) -> None:
    """Move the pacer's clock and every stored next attempt together."""
    clock.now += seconds
    database.execute("UPDATE outbox_messages SET next_attempt_at = next_attempt_at - ?", (seconds,))


async def send_all_due(sender) -> None:
    """Deliver until nothing is due now (messages put back for later stay queued)."""
    for _ in range(50):
        if await sender.send_due_once() == 0:
            return
    raise AssertionError("the outbox never ran dry")


def waiting(database):
    """Each row as (state, attempts spent, failure reason, seconds it was put back for)."""
    rows = database.execute(
        "SELECT state, attempts, failure_reason, next_attempt_at - updated_at AS wait FROM outbox_messages ORDER BY id"
    )
    return [
        (row["state"], row["attempts"], row["failure_reason"], round(row["wait"], 3) if row["state"] == "pending" else None)
        for row in rows
    ]


def texts_to(fake, customer=CUSTOMER):
    return [body["text"]["body"] for body in fake.sent_messages() if body["to"] == customer]


def customer_wrote(database, minutes_ago: float = 1.0, customer: str = CUSTOMER) -> None:
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO conversations (id, last_inbound_at, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (customer, now - minutes_ago * 60, now, now),
        )


def queue(database, *texts, origin="bot", response_name=None, customer=CUSTOMER):
    drafts = [
        outbox.OutboxDraft(
            customer, {"type": "text", "text": {"body": text}}, origin,
            answers_wamid=f"wamid.in.{customer}.{text}" if origin == "bot" else None, response_name=response_name,
        )
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
    handoff.claim(database, CUSTOMER, "ana", handoff.HandoffTimeouts())
    queue(database, "order acknowledged", response_name="utter_order_received")
    queue(database, "holding message", response_name="utter_handoff_queued")
    queue(database, "late bot answer")
    queue(database, "attendant text", origin="attendant")
    await drain(sender)
    assert [body["text"]["body"] for body in fake.sent_messages()] == [
        "order acknowledged", "holding message", "attendant text"]
    assert states(database) == [("sent", None), ("sent", None), ("suppressed", "conversation_human"), ("sent", None)]


async def test_the_bot_keeps_answering_while_the_customer_waits_for_a_person(sender, fake):
    sender, database = sender
    customer_wrote(database)
    handoff.request_handoff(database, CUSTOMER, "asked", handoff.HandoffTimeouts())
    queue(database, "We're open Monday to Friday", response_name="utter_hours_open_now")
    await drain(sender)
    assert [body["text"]["body"] for body in fake.sent_messages()] == ["We're open Monday to Friday"]
    assert states(database) == [("sent", None)]


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


async def test_a_burst_to_one_customer_goes_at_once_then_one_message_every_six_seconds(paced, fake):
    sender, database, clock = paced(pair_burst=3)
    customer_wrote(database)
    queue(database, "1", "2", "3", "4", "5")
    await send_all_due(sender)
    assert texts_to(fake) == ["1", "2", "3"]
    assert waiting(database)[3:] == [("pending", 0, None, 6.0), ("pending", 0, None, 0.0)]
    let_time_pass(database, clock, 5.9)
    await send_all_due(sender)
    assert texts_to(fake) == ["1", "2", "3"]
    let_time_pass(database, clock, 0.1)
    await send_all_due(sender)
    assert texts_to(fake) == ["1", "2", "3", "4"]
    assert waiting(database)[4] == ("pending", 0, None, 6.0)
    let_time_pass(database, clock, 6.0)
    await send_all_due(sender)
    assert texts_to(fake) == ["1", "2", "3", "4", "5"]
    assert waiting(database) == [("sent", 1, None, None)] * 5


async def test_one_customers_pace_never_holds_back_another(paced, fake):
    sender, database, clock = paced(pair_burst=1)
    customer_wrote(database)
    customer_wrote(database, customer=OTHER_CUSTOMER)
    queue(database, "a1", "a2")
    queue(database, "b1", customer=OTHER_CUSTOMER)
    await send_all_due(sender)
    assert (texts_to(fake), texts_to(fake, OTHER_CUSTOMER)) == (["a1"], ["b1"])
    assert waiting(database) == [("sent", 1, None, None), ("pending", 0, None, 6.0), ("sent", 1, None, None)]


async def test_the_number_is_paced_at_its_throughput(paced, fake):
    sender, database, clock = paced(messages_per_second=2.0)
    customers = [CUSTOMER, OTHER_CUSTOMER, "16315552222"]
    for customer in customers:
        customer_wrote(database, customer=customer)
        queue(database, f"hello {customer}", customer=customer)
    await send_all_due(sender)
    assert len(fake.sent_messages()) == 2
    assert sorted(waiting(database)) == [("pending", 0, None, 0.5), ("sent", 1, None, None), ("sent", 1, None, None)]
    let_time_pass(database, clock, 0.5)
    await send_all_due(sender)
    assert sorted(body["to"] for body in fake.sent_messages()) == sorted(customers)


async def test_a_pair_rate_limit_backs_that_customer_off_as_meta_asks_without_spending_attempts(paced, fake):
    sender, database, clock = paced()
    customer_wrote(database)
    customer_wrote(database, customer=OTHER_CUSTOMER)
    fake.script_rate_limit(PAIR_RATE_LIMIT, to=CUSTOMER, times=3)
    queue(database, "one", "two")
    queue(database, "meanwhile", customer=OTHER_CUSTOMER)
    await send_all_due(sender)
    assert texts_to(fake, OTHER_CUSTOMER) == ["meanwhile"]  # only the customer Meta named waits
    backoffs = [waiting(database)[0]]
    for _ in range(2):
        let_time_pass(database, clock, backoffs[-1][3])
        await send_all_due(sender)
        backoffs.append(waiting(database)[0])
    # Meta's 4^n seconds (1, 4, 16), never under the 6 s pair interval; no attempt spent (POLICY allows 3)
    assert backoffs == [("pending", 0, "pair_rate_limited", wait) for wait in (6.0, 6.0, 16.0)]
    let_time_pass(database, clock, 16.0)
    await send_all_due(sender)
    assert waiting(database)[:2] == [("sent", 1, None, None), ("pending", 0, None, 6.0)]
    let_time_pass(database, clock, 6.0)
    await send_all_due(sender)
    assert texts_to(fake) == ["one", "one", "one", "one", "two"]
    assert [state for state, *_ in waiting(database)] == ["sent", "sent", "sent"]


async def test_a_throughput_limit_pauses_the_whole_number_without_spending_attempts(paced, fake):
    sender, database, clock = paced()
    customer_wrote(database)
    customer_wrote(database, customer=OTHER_CUSTOMER)
    fake.script_rate_limit(THROUGHPUT_LIMIT, to=CUSTOMER)
    queue(database, "first", "second")
    await send_all_due(sender)
    queue(database, "other", customer=OTHER_CUSTOMER)
    await send_all_due(sender)
    assert texts_to(fake, OTHER_CUSTOMER) == []  # the number is paused for every customer
    assert waiting(database) == [
        ("pending", 0, "rate_limited", 1.0), ("pending", 0, None, 0.0), ("pending", 0, None, 1.0)
    ]
    let_time_pass(database, clock, 1.0)
    await send_all_due(sender)
    assert (texts_to(fake), texts_to(fake, OTHER_CUSTOMER)) == (["first", "first", "second"], ["other"])
    assert [attempts for _, attempts, *_ in waiting(database)] == [1, 1, 1]
