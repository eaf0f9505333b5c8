"""The durable inbox: stored once, leased per conversation, processed in the customer's order."""

import json
import threading
import time

import pytest

from supportdesk.messaging import inbox
from supportdesk.platform.database import Database
from supportdesk.whatsapp.payload import parse_webhook
from tests.fixture_files import fixture_bytes

KERRY = "16315551181"
JOAO = "5511987654321"


def _text_delivery(wamid: str, sender: str, timestamp: int, text: str) -> bytes:
    message = {"from": sender, "id": wamid, "timestamp": str(timestamp), "type": "text", "text": {"body": text}}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
             "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": sender}], "messages": [message]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()


def _store(database: Database, body: bytes) -> inbox.StoredDelivery:
    return inbox.store_delivery(database, parse_webhook(body))


def test_a_message_is_stored_once(database: Database) -> None:
    first = _store(database, fixture_bytes("inbound_text.json"))
    again = _store(database, fixture_bytes("inbound_text.json"))
    assert len(first.new_wamids) == 1 and first.duplicates == 0
    assert again.new_wamids == [] and again.duplicates == 1
    rows = database.execute("SELECT conversation_id, kind, state FROM inbox_messages")
    assert rows == [{"conversation_id": KERRY, "kind": "text", "state": "pending"}]


def test_a_batch_stores_every_message_and_its_conversation(database: Database) -> None:
    stored = _store(database, fixture_bytes("inbound_batch_three_messages.json"))
    assert len(stored.new_wamids) == 3
    names = database.execute("SELECT id, customer_name FROM conversations ORDER BY id")
    assert names == [{"id": KERRY, "customer_name": "Kerry Fisher"}, {"id": JOAO, "customer_name": "João Silva"}]


def test_two_replicas_storing_the_same_delivery_keep_one_row(database: Database) -> None:
    replicas = [Database(database.url) for _ in range(4)]
    results = []
    threads = [
        threading.Thread(target=lambda r=replica: results.append(_store(r, fixture_bytes("inbound_text.json"))))
        for replica in replicas
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(result.new_wamids) for result in results) == [0, 0, 0, 1]
    assert database.execute("SELECT COUNT(*) AS n FROM inbox_messages") == [{"n": 1}]
    for replica in replicas:
        replica.close()


def test_reactions_are_stored_without_touching_the_conversation(database: Database) -> None:
    _store(database, fixture_bytes("inbound_reaction.json"))
    assert database.execute("SELECT kind FROM inbox_messages") == [{"kind": "reaction"}]
    assert database.execute("SELECT id FROM conversations") == []


def test_rows_come_back_in_the_customers_order(database: Database) -> None:
    _store(database, _text_delivery("wamid.late", KERRY, 1795529200, "second"))
    _store(database, _text_delivery("wamid.early", KERRY, 1795529100, "first"))
    rows = inbox.pending_rows(database, KERRY)
    assert [row.wamid for row in rows] == ["wamid.early", "wamid.late"]
    assert rows[0].message.user_text == "first"


def test_a_conversation_is_leased_to_one_worker(database: Database) -> None:
    _store(database, fixture_bytes("inbound_batch_three_messages.json"))
    assert sorted(inbox.claim_conversations(database, "replica-a", 30, 10)) == sorted([JOAO, KERRY])
    assert inbox.claim_conversations(database, "replica-b", 30, 10) == []
    assert inbox.claim_conversations(database, "replica-a", 30, 10) == []  # never a second task on its own lease
    inbox.release_lease(database, KERRY, "replica-a")
    assert inbox.claim_conversations(database, "replica-b", 30, 10) == [KERRY]


def test_a_worker_keeps_its_lease_while_messages_wait_and_gives_it_back_with_the_last(database: Database) -> None:
    _store(database, _text_delivery("wamid.one", KERRY, 1795529100, "first"))
    assert inbox.claim_conversations(database, "replica-a", 30, 10) == [KERRY]
    _store(database, _text_delivery("wamid.two", KERRY, 1795529200, "second"))
    with database.transaction() as cursor:
        inbox.mark_done(cursor, "wamid.one", time.time())

    assert [row.wamid for row in inbox.pending_rows_or_release(database, KERRY, "replica-a")] == ["wamid.two"]
    assert inbox.claim_conversations(database, "replica-b", 30, 10) == []  # still ours
    with database.transaction() as cursor:
        inbox.mark_done(cursor, "wamid.two", time.time())
    assert inbox.pending_rows_or_release(database, KERRY, "replica-a") == []
    assert database.execute("SELECT conversation_id FROM conversation_leases") == []

    _store(database, _text_delivery("wamid.three", KERRY, 1795529300, "third"))  # after the release: anyone's
    assert inbox.claim_conversations(database, "replica-b", 30, 10) == [KERRY]


def test_a_claim_leaves_a_lease_only_on_what_it_returns(database: Database) -> None:
    _store(database, fixture_bytes("inbound_batch_three_messages.json"))
    assert inbox.claim_conversations(database, "replica-a", 30, 1) == [KERRY]  # the oldest pending first
    leases = database.execute("SELECT conversation_id, owner FROM conversation_leases")
    assert leases == [{"conversation_id": KERRY, "owner": "replica-a"}]


def test_an_expired_lease_can_be_taken_over(database: Database) -> None:
    _store(database, fixture_bytes("inbound_text.json"))
    assert inbox.acquire_lease(database, KERRY, "crashed", 30, now=time.time() - 60)
    assert inbox.claim_conversations(database, "survivor", 30, 10) == [KERRY]


def test_done_rows_are_not_pending(database: Database) -> None:
    stored = _store(database, fixture_bytes("inbound_text.json"))
    with database.transaction() as cursor:
        inbox.mark_done(cursor, stored.new_wamids[0], time.time())
    assert inbox.pending_rows(database, KERRY) == []
    assert inbox.claim_conversations(database, "replica-a", 30, 10) == []


def test_restarts_are_counted(database: Database) -> None:
    wamid = _store(database, fixture_bytes("inbound_text.json")).new_wamids[0]
    for earlier_starts in (0, 1):
        with database.transaction() as cursor:
            assert inbox.mark_started(cursor, wamid) == earlier_starts


def test_a_failing_message_waits_then_is_parked(database: Database) -> None:
    wamid = _store(database, fixture_bytes("inbound_text.json")).new_wamids[0]
    assert inbox.record_failure(database, wamid, "RuntimeError('x')") is False
    assert inbox.claim_conversations(database, "replica-a", 30, 10) == []  # waits for its retry time
    for _ in range(inbox.PROCESSING_RETRY.max_attempts - 2):
        assert inbox.record_failure(database, wamid, "again") is False
    assert inbox.record_failure(database, wamid, "last") is True
    assert database.execute("SELECT state, attempts FROM inbox_messages") == [
        {"state": "failed", "attempts": inbox.PROCESSING_RETRY.max_attempts}
    ]


def test_retries_of_a_failing_message_back_off_exponentially_with_jitter(database: Database) -> None:
    wamid = _store(database, fixture_bytes("inbound_text.json")).new_wamids[0]
    waits = []
    for draw in (1.0, 1.0, 0.5, 0.0):
        inbox.record_failure(database, wamid, "boom", now=1000.0, rng=lambda draw=draw: draw)
        waits.append(database.execute("SELECT retry_at FROM inbox_messages")[0]["retry_at"] - 1000.0)
    assert waits == [2.0, 4.0, 4.0, pytest.approx(1.6)]  # ceilings 2, 4, 8, 16 s; full jitter, at least 10 %


def test_a_message_with_an_impossible_time_is_stored_and_read_back_with_its_time_of_receipt(database: Database) -> None:
    body = _text_delivery("wamid.far", KERRY, 253402300800, "year 10000")  # past what datetime can show
    stored = inbox.store_delivery(database, parse_webhook(body, received_at=1795529400.5), now=1795529400.5)
    assert stored.new_wamids == ["wamid.far"]
    assert database.execute("SELECT sent_at, received_at FROM inbox_messages") == [
        {"sent_at": 1795529400, "received_at": 1795529400.5}
    ]
    [row] = inbox.pending_rows(database, KERRY)
    assert (row.message.timestamp, row.message.user_text) == (1795529400, "year 10000")


def test_a_row_stored_with_an_impossible_time_before_the_check_reads_back_with_its_receipt_time(database: Database) -> None:
    payload = _text_delivery("wamid.old", KERRY, 253402300800, "stored long ago").decode()
    database.execute(
        """INSERT INTO inbox_messages (wamid, conversation_id, kind, sent_at, received_at, payload)
           VALUES (?, ?, 'text', ?, ?, ?)""",
        ("wamid.old", KERRY, 253402300800, 1795529400.0, payload),
    )
    [row] = inbox.pending_rows(database, KERRY)
    assert row.message.timestamp == 1795529400


def _parsed(wamid: str, sender: str, timestamp: int, text: str):
    return parse_webhook(_text_delivery(wamid, sender, timestamp, text))


def test_a_batch_leaves_each_conversation_as_storing_its_messages_one_by_one_would(database: Database) -> None:
    """Several deliveries of one customer in one batch: last preview, newest inbound time, reopened once."""
    _store(database, _text_delivery("wamid.before", KERRY, 1795529000, "thanks, bye"))
    database.execute("UPDATE conversations SET status = 'closed', version = 7 WHERE id = ?", (KERRY,))
    deliveries = [
        (_parsed("wamid.b1", KERRY, 1795529300, "hi again"), 1_900_000_001.0),
        (_parsed("wamid.b2", JOAO, 1795529310, "oi"), 1_900_000_002.0),
        (_parsed("wamid.b3", KERRY, 1795529200, "sent earlier, arrived later"), 1_900_000_003.0),
    ]
    results = inbox.store_deliveries(database, deliveries)

    assert [result.new_wamids for result in results] == [["wamid.b1"], ["wamid.b2"], ["wamid.b3"]]
    kerry = database.execute(
        "SELECT status, version, last_inbound_at, last_message_at, last_message_preview FROM conversations WHERE id = ?",
        (KERRY,),
    )
    assert kerry == [{"status": "bot", "version": 8, "last_inbound_at": 1795529300.0,
                      "last_message_at": 1_900_000_003.0, "last_message_preview": "sent earlier, arrived later"}]
    reopened = database.execute("SELECT conversation_id FROM stream_events WHERE event = 'conversation.updated'")
    assert reopened == [{"conversation_id": KERRY}]


def test_the_same_message_twice_in_one_batch_is_stored_once(database: Database) -> None:
    copy = _parsed("wamid.twice", KERRY, 1795529300, "hello")
    results = inbox.store_deliveries(database, [(copy, 1_900_000_000.0), (copy, 1_900_000_000.5)])
    assert [(result.new_wamids, result.duplicates) for result in results] == [(["wamid.twice"], 0), ([], 1)]
    assert database.execute("SELECT COUNT(*) AS n FROM inbox_messages") == [{"n": 1}]


def test_a_batch_larger_than_one_statement_stores_every_message(database: Database) -> None:
    deliveries = [(_parsed(f"wamid.many.{index}", f"55119{index:08d}", 1795529300, "hello"), 1_900_000_000.0)
                  for index in range(inbox._ROWS_PER_STATEMENT * 2 + 5)]
    results = inbox.store_deliveries(database, deliveries)
    assert all(len(result.new_wamids) == 1 for result in results)
    assert database.execute("SELECT COUNT(*) AS n FROM inbox_messages") == [{"n": len(deliveries)}]
    assert database.execute("SELECT COUNT(*) AS n FROM conversations") == [{"n": len(deliveries)}]
