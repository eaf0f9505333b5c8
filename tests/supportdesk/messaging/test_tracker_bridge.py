"""The tracker follows the database: pending attendant/system messages and the pause state, idempotently."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed

from supportdesk.handoff import state as handoff
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.messaging import outbox, tracker_bridge
from supportdesk.messaging.history import messages_from_events, with_pending

CUSTOMER = "5511988887777"
TIMEOUTS = HandoffTimeouts()


class _Processor:
    def __init__(self, store: InMemoryTrackerStore) -> None:
        self._store = store

    async def fetch_tracker_with_initial_session(self, sender_id: str) -> Any:
        return await self._store.get_or_create_tracker(sender_id)


class _Agent:
    """The three parts of Rasa's Agent that `bring_up_to_date` uses, with Rasa's in-memory stores."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.processor = _Processor(self.tracker_store)


def _queue(database, origin: str, text: str, now: float, **extra: Any) -> str:
    draft = outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": text, "preview_url": False}}, origin, **extra)
    with database.transaction() as cursor:
        [row_id] = outbox.enqueue(cursor, [draft], now)
    return outbox.message_id_of(row_id)


async def _tracker(agent: _Agent):
    return await agent.tracker_store.retrieve(CUSTOMER)


async def test_attendant_and_system_messages_are_written_once_in_order(database):
    agent = _Agent()
    handoff.request_handoff(database, CUSTOMER, "asked for a person", TIMEOUTS, 1_900_000_000.0)
    handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, 1_900_000_001.0)
    reply = _queue(database, "attendant", "Hi, Ana here", 1_900_000_002.0, attendant_id="ana")
    bot = _queue(database, "bot", "from Rasa itself", 1_900_000_003.0, answers_wamid="wamid.X", seq=0)

    assert await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER) == 2
    tracker = await _tracker(agent)
    uttered = [event for event in tracker.events if isinstance(event, BotUttered)]
    assert [(e.text, e.metadata) for e in uttered] == [("Hi, Ana here", {"message_id": reply, "attendant_id": "ana"})]
    assert uttered[0].timestamp == 1_900_000_002.0
    assert tracker.is_paused()
    assert tracker_bridge.pending_rows(database, CUSTOMER) == []
    assert bot != reply

    assert await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER) == 0  # nothing twice


async def test_a_row_already_in_the_tracker_is_not_appended_again(database):
    """A crash between the tracker save and the row update must not duplicate the message."""
    agent = _Agent()
    released = _queue(database, "system", "You're back", 1_900_000_000.0, response_name="utter_handoff_released")
    await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER)
    database.execute("UPDATE outbox_messages SET in_tracker = 0")  # the mark was lost
    assert await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER) == 0
    tracker = await _tracker(agent)
    assert [e.metadata for e in tracker.events if isinstance(e, BotUttered)] == [
        {"message_id": released, "utter_action": "utter_handoff_released"}
    ]


async def test_the_tracker_resumes_listening_when_the_database_gives_the_customer_back(database):
    agent = _Agent()
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, 1_900_000_000.0)
    await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER)
    assert not (await _tracker(agent)).is_paused()  # waiting is not silence: the assistant keeps answering
    handoff.claim(database, CUSTOMER, "ana", TIMEOUTS, 1_900_000_010.0)
    await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER)
    assert (await _tracker(agent)).is_paused()  # an attendant holds the customer

    database.execute("UPDATE conversations SET status = 'bot' WHERE id = ?", (CUSTOMER,))
    assert await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER) == 2
    tracker = await _tracker(agent)
    assert not tracker.is_paused()
    events = list(tracker.events)
    assert [type(e) for e in events[-3:]] == [ConversationPaused, ConversationResumed, ActionExecuted]
    assert events[-1].action_name == "action_listen"


async def test_a_failing_tracker_store_fails_the_catch_up_and_leaves_rows_pending(database):
    agent = _Agent()
    _queue(database, "attendant", "Hi", 1_900_000_000.0, attendant_id="ana")

    async def broken_save(_: Any) -> None:
        raise ConnectionError("tracker store down")

    agent.tracker_store.save = broken_save
    with contextlib.suppress(ConnectionError):
        await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER)
    assert len(tracker_bridge.pending_rows(database, CUSTOMER)) == 1  # retried by the next turn


def test_history_shows_pending_rows_after_the_tracker_without_duplicates(database):
    queued = _queue(database, "attendant", "On my way", 1_900_000_000.0, attendant_id="ana")
    rows = tracker_bridge.pending_rows(database, CUSTOMER)
    in_tracker = [
        {"event": "user", "text": "hello", "message_id": "wamid.A", "timestamp": 1_899_999_999.0},
        {"event": "bot", "text": "On my way", "metadata": {"message_id": queued, "attendant_id": "ana"},
         "timestamp": 1_900_000_000.0},
    ]
    merged = with_pending(CUSTOMER, messages_from_events(CUSTOMER, in_tracker), rows)
    assert [(m["id"], m["sender"]) for m in merged] == [("wamid.A", "customer"), (queued, "attendant")]

    only_rows = with_pending(CUSTOMER, messages_from_events(CUSTOMER, in_tracker[:1]), rows)
    assert only_rows[-1] == {
        "id": queued, "conversation_id": CUSTOMER, "sender": "attendant", "text": "On my way",
        "timestamp": "2030-03-17T17:46:40.000Z", "attendant_id": "ana",
    }
    assert json.loads(rows[0]["message"])["text"]["body"] == "On my way"


async def test_the_waiting_slot_follows_the_database_so_a_released_customer_is_greeted_normally(database):
    agent = _Agent()
    agent.tracker_store = InMemoryTrackerStore(Domain.from_dict(
        {"slots": {"handoff_waiting": {"type": "bool", "initial_value": False, "mappings": [{"type": "custom"}]}}}
    ))
    agent.processor = _Processor(agent.tracker_store)
    handoff.request_handoff(database, CUSTOMER, "asked for a person", TIMEOUTS, 1_900_000_000.0)
    await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER)
    assert (await _tracker(agent)).get_slot("handoff_waiting") is True

    database.execute("UPDATE conversations SET status = 'bot' WHERE id = ?", (CUSTOMER,))  # released, or gave up
    await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER)
    assert (await _tracker(agent)).get_slot("handoff_waiting") is False
    assert await tracker_bridge.bring_up_to_date(agent, database, CUSTOMER) == 0  # nothing more to write
