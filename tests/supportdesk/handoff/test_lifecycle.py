"""Template hand-over, resolve, satisfaction answers and opt-out in the database."""

import pytest

from supportdesk.handoff import lifecycle
from supportdesk.handoff.lifecycle import LifecycleRefused, Refused, TemplateDraft
from supportdesk.handoff.state import HandoffTimeouts, claim
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.database import Database
from supportdesk.platform.schema import migrate

CUSTOMER = "5511987654321"
NOW = 1_800_000_000.0
DRAFT = TemplateDraft({"type": "template", "template": {"name": "t", "language": {"code": "en_US"}}}, "Hello")


@pytest.fixture
def database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'lifecycle.db'}")
    migrate(db)
    db.execute(
        "INSERT INTO conversations (id, status, last_inbound_at, created_at, updated_at) VALUES (?, 'bot', ?, ?, ?)",
        (CUSTOMER, NOW - 3600, NOW, NOW),
    )
    return db


def events(database):
    return [row["event"] for row in database.execute("SELECT event FROM stream_events ORDER BY id")]


def test_a_template_gives_the_conversation_to_the_sender_and_streams_both_changes(database):
    message = lifecycle.send_template(database, CUSTOMER, "ana", DRAFT, HandoffTimeouts(), NOW)
    assert (message["type"], message["text"], message["attendant_id"]) == ("template", "Hello", "ana")
    conversation = load_conversation(database, CUSTOMER)
    assert (conversation.status, conversation.assigned_to) == ("human", "ana")
    assert events(database) == ["conversation.updated", "message.created"]
    lifecycle.send_template(database, CUSTOMER, "ana", DRAFT, HandoffTimeouts(), NOW + 1)  # the holder again
    with pytest.raises(LifecycleRefused) as refused:
        lifecycle.send_template(database, CUSTOMER, "bruno", DRAFT, HandoffTimeouts(), NOW + 2)
    assert refused.value.reason is Refused.HELD_BY_OTHER


def test_resolve_closes_once_refuses_others_and_admins_may(database):
    claim(database, CUSTOMER, "ana", HandoffTimeouts(), NOW)
    with pytest.raises(LifecycleRefused):
        lifecycle.resolve(database, CUSTOMER, "bruno", False, True, NOW)
    closed = lifecycle.resolve(database, CUSTOMER, "boss", True, True, NOW)
    assert closed.status == "closed"
    assert database.execute("SELECT attendant_id, score FROM satisfaction") == [{"attendant_id": "ana", "score": None}]
    with pytest.raises(LifecycleRefused) as unknown:
        lifecycle.resolve(database, "nobody", "ana", False, True, NOW)
    assert unknown.value.reason is Refused.NOT_FOUND


def test_answers_are_counted_and_averaged(database):
    lifecycle.resolve(database, CUSTOMER, "ana", False, True, NOW)
    assert lifecycle.record_satisfaction(database, CUSTOMER, 3, NOW + 5) is True
    assert lifecycle.record_satisfaction(database, CUSTOMER, 1, NOW + 6) is False
    assert lifecycle.satisfaction_summary(database, NOW) == {"answered": 1, "average": 3.0}
    assert lifecycle.satisfaction_summary(database, NOW + 10) == {"answered": 0, "average": None}


def test_opting_out_twice_changes_once_and_blocks_templates(database):
    assert lifecycle.set_opted_out(database, CUSTOMER, True, NOW).opted_out is True
    assert lifecycle.set_opted_out(database, CUSTOMER, True, NOW) is None
    with pytest.raises(LifecycleRefused) as refused:
        lifecycle.send_template(database, CUSTOMER, "ana", DRAFT, HandoffTimeouts(), NOW)
    assert refused.value.reason is Refused.OPTED_OUT
    assert lifecycle.set_opted_out(database, CUSTOMER, False, NOW).opted_out is False


def test_resolving_or_a_template_follows_up_a_missed_request(database):
    """Issue 14: a missed request leaves the console's missed list once a person deals with it."""
    database.execute("UPDATE conversations SET missed_at = ? WHERE id = ?", (NOW - 60, CUSTOMER))
    assert lifecycle.resolve(database, CUSTOMER, "ana", False, False, NOW).missed_at is None
    database.execute("UPDATE conversations SET status = 'bot', missed_at = ? WHERE id = ?", (NOW - 60, CUSTOMER))
    lifecycle.send_template(database, CUSTOMER, "ana", DRAFT, HandoffTimeouts(), NOW + 1)
    assert load_conversation(database, CUSTOMER).missed_at is None
