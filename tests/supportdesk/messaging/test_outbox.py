"""The outbox: replies queued once per inbound message, sent in order, statuses only move forward."""

import json
import time

from supportdesk.messaging import outbox
from supportdesk.messaging.inbox import store_delivery
from supportdesk.platform.database import Database
from supportdesk.whatsapp.payload import parse_webhook
from tests.fixture_files import fixture_bytes

KERRY = "16315551181"
SENT_WAMID = "wamid.HBgLMTYzMTU1NTExODEVAgARGBI1NkFEQ0RGRkRFQTAzQjMwQjEA"  # the reply the status_*.json fixtures report on


def _draft(seq: int, answers: str = "wamid.in", conversation: str = KERRY) -> outbox.OutboxDraft:
    return outbox.OutboxDraft(
        conversation_id=conversation,
        message={"type": "text", "text": {"body": f"reply {seq}"}},
        origin="bot",
        preview=f"reply {seq}",
        answers_wamid=answers,
        seq=seq,
    )


def _enqueue(database: Database, *drafts: outbox.OutboxDraft) -> list:
    with database.transaction() as cursor:
        return outbox.enqueue(cursor, drafts, time.time())


def test_replies_to_one_message_are_queued_once(database: Database) -> None:
    assert len(_enqueue(database, _draft(0), _draft(1))) == 2
    assert _enqueue(database, _draft(0), _draft(1)) == []
    assert database.execute("SELECT COUNT(*) AS n FROM outbox_messages") == [{"n": 2}]


def test_attendant_messages_without_inbound_are_all_kept(database: Database) -> None:
    draft = outbox.OutboxDraft(conversation_id=KERRY, message={"type": "text", "text": {"body": "hi"}}, origin="attendant")
    assert len(_enqueue(database, draft, draft)) == 2


def test_only_the_first_pending_row_of_a_conversation_is_due(database: Database) -> None:
    _enqueue(database, _draft(0), _draft(1), _draft(0, answers="wamid.other", conversation="5511987654321"))
    claimed = outbox.claim_due(database, "replica-a", 60, 10)
    assert sorted((row.conversation_id, row.message["text"]["body"]) for row in claimed) == [
        ("16315551181", "reply 0"),
        ("5511987654321", "reply 0"),
    ]
    assert outbox.claim_due(database, "replica-b", 60, 10) == []
    first = next(row for row in claimed if row.conversation_id == KERRY)
    outbox.finish(database, first.id, "sent", wamid="wamid.out.1")
    assert [row.message["text"]["body"] for row in outbox.claim_due(database, "replica-b", 60, 10)] == ["reply 1"]


def test_a_row_waiting_for_retry_holds_back_later_rows(database: Database) -> None:
    _enqueue(database, _draft(0), _draft(1))
    (first,) = outbox.claim_due(database, "replica-a", 60, 10)
    outbox.retry_later(database, first.id, 30, "throttled")
    assert outbox.claim_due(database, "replica-a", 60, 10) == []
    outbox.retry_later(database, first.id, 0, "throttled")
    (again,) = outbox.claim_due(database, "replica-a", 60, 10)
    assert (again.id, again.attempts) == (first.id, 2)


def test_a_send_lease_that_ran_out_is_claimable_again(database: Database) -> None:
    _enqueue(database, _draft(0))
    assert len(outbox.claim_due(database, "crashed", -1, 10)) == 1
    assert len(outbox.claim_due(database, "survivor", 60, 10)) == 1


def _status(database: Database, fixture: str) -> None:
    delivery = parse_webhook(fixture_bytes(fixture))
    store_delivery(database, delivery)


def _state(database: Database) -> str:
    return database.execute("SELECT state FROM outbox_messages")[0]["state"]


def test_statuses_only_move_forward(database: Database) -> None:
    (row_id,) = _enqueue(database, _draft(0))
    outbox.finish(database, row_id, "sent", wamid=SENT_WAMID)
    _status(database, "status_read.json")
    assert _state(database) == "read"
    _status(database, "status_delivered.json")
    _status(database, "status_sent.json")
    assert _state(database) == "read"
    seen = database.execute("SELECT status FROM delivery_statuses ORDER BY status")
    assert [row["status"] for row in seen] == ["delivered", "read", "sent"]


def _raw_status(database: Database, status: str) -> None:
    item = {"id": SENT_WAMID, "status": status, "timestamp": "1700000000", "recipient_id": KERRY}
    body = {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [item]}}]}]}
    store_delivery(database, parse_webhook(json.dumps(body).encode()))


def test_played_counts_as_read_and_unknown_statuses_move_nothing(database: Database) -> None:
    (row_id,) = _enqueue(database, _draft(0))
    outbox.finish(database, row_id, "sent", wamid=SENT_WAMID)
    _raw_status(database, "deleted")
    assert _state(database) == "sent"
    _raw_status(database, "played")
    assert _state(database) == "read"
    _raw_status(database, "delivered")
    assert _state(database) == "read"
    seen = database.execute("SELECT status FROM delivery_statuses ORDER BY status")
    assert [row["status"] for row in seen] == ["deleted", "delivered", "played"]


def test_a_repeated_status_is_recorded_once(database: Database) -> None:
    _status(database, "status_delivered.json")
    _status(database, "status_delivered.json")
    assert database.execute("SELECT COUNT(*) AS n FROM delivery_statuses") == [{"n": 1}]


def test_failed_131047_closes_the_window(database: Database) -> None:
    joao = "5511987654321"
    store_delivery(database, parse_webhook(fixture_bytes("inbound_text_unicode.json")))
    (row_id,) = _enqueue(database, _draft(0, conversation=joao))
    failed = parse_webhook(fixture_bytes("status_failed_131047.json")).statuses[0]
    outbox.finish(database, row_id, "sent", wamid=failed.wamid)
    _status(database, "status_failed_131047.json")
    row = database.execute("SELECT state, failure_code, failure_reason FROM outbox_messages")[0]
    assert row == {"state": "failed", "failure_code": 131047, "failure_reason": "window_closed"}
    assert database.execute("SELECT window_closed FROM conversations WHERE id = ?", (joao,)) == [{"window_closed": 1}]
