"""A dialogue turn reads the tracker once: the catch-up events and the turn share one read, one lock, one save."""

from __future__ import annotations

from typing import Any, List

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, ConversationPaused, UserUttered

from supportdesk.handoff import state as handoff
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.messaging import outbox, tracker_bridge

CUSTOMER = "5511977776666"


class _CountingStore(InMemoryTrackerStore):
    """Rasa's in-memory tracker store, counting reads and writes."""

    def __init__(self) -> None:
        super().__init__(Domain.empty())
        self.reads = 0
        self.saves = 0

    async def retrieve(self, sender_id: str) -> Any:
        self.reads += 1
        return await super().retrieve(sender_id)

    async def save(self, tracker: Any) -> None:
        self.saves += 1
        await super().save(tracker)


class _Processor:
    """The steps of Rasa's `MessageProcessor.handle_message` that `take_turn` calls, recorded."""

    def __init__(self, store: _CountingStore) -> None:
        self.store = store
        self.steps: List[str] = []

    async def fetch_tracker_and_update_session(self, sender_id: str, output_channel: Any, metadata: Any) -> Any:
        self.steps.append("fetch")
        return await self.store.get_or_create_tracker(sender_id)

    async def _handle_message_with_tracker(self, message: UserMessage, tracker: Any) -> None:
        self.steps.append("message")
        tracker.update(UserUttered(message.text))

    async def run_action_extract_slots(self, output_channel: Any, tracker: Any) -> Any:
        self.steps.append("slots")
        return tracker

    async def _run_prediction_loop(self, output_channel: Any, tracker: Any) -> None:
        self.steps.append("predict")

    async def run_anonymization_pipeline(self, tracker: Any) -> None:
        self.steps.append("anonymize")

    async def save_tracker(self, tracker: Any) -> None:
        self.steps.append("save")
        await self.store.save(tracker)


class _Agent:
    def __init__(self) -> None:
        self.tracker_store = _CountingStore()
        self.lock_store = InMemoryLockStore()
        self.processor = _Processor(self.tracker_store)


async def test_the_catch_up_and_the_turn_share_one_tracker_read_and_one_save(database):
    agent = _Agent()
    timeouts = HandoffTimeouts()
    handoff.request_handoff(database, CUSTOMER, "asked for a person", timeouts, 1_900_000_000.0)
    handoff.claim(database, CUSTOMER, "ana", timeouts, 1_900_000_001.0)
    draft = outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": "Hi, Ana here"}}, "attendant", attendant_id="ana")
    with database.transaction() as cursor:
        [row_id] = outbox.enqueue(cursor, [draft], 1_900_000_002.0)
    await agent.tracker_store.get_or_create_tracker(CUSTOMER)  # a conversation the tracker store knows
    agent.tracker_store.reads = agent.tracker_store.saves = 0

    await tracker_bridge.take_turn(agent, database, UserMessage("thanks", CollectingOutputChannel(), CUSTOMER))

    assert (agent.tracker_store.reads, agent.tracker_store.saves) == (1, 1)
    assert agent.processor.steps == ["fetch", "message", "slots", "predict", "anonymize", "save"]
    tracker = await agent.tracker_store.retrieve(CUSTOMER)
    kinds = [type(event).__name__ for event in tracker.events if isinstance(event, (BotUttered, ConversationPaused, UserUttered))]
    assert kinds == ["BotUttered", "ConversationPaused", "UserUttered"]
    assert tracker_bridge.pending_rows(database, CUSTOMER) == []
    assert outbox.message_id_of(row_id) == [e for e in tracker.events if isinstance(e, BotUttered)][0].metadata["message_id"]


async def test_a_failing_turn_leaves_the_rows_for_the_retry(database):
    agent = _Agent()
    draft = outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": "system note"}}, "system")
    with database.transaction() as cursor:
        outbox.enqueue(cursor, [draft], 1_900_000_002.0)

    async def broken(*_: Any) -> None:
        raise RuntimeError("policy crashed")

    agent.processor._run_prediction_loop = broken
    try:
        await tracker_bridge.take_turn(agent, database, UserMessage("hello", CollectingOutputChannel(), CUSTOMER))
    except RuntimeError as error:
        assert str(error) == "policy crashed"
    else:
        raise AssertionError("the turn's failure must reach the inbox, which retries it")
    stored = await agent.tracker_store.retrieve(CUSTOMER)
    assert [event for event in stored.events if isinstance(event, (UserUttered, BotUttered))] == []
    assert len(tracker_bridge.pending_rows(database, CUSTOMER)) == 1
