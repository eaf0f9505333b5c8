"""Keeps the Rasa tracker in step with the database, which alone decides who answers.

The database is the one record of who answers a customer (`conversations.status`) and of
what attendants and the service sent on their own (`outbox_messages`). The tracker follows
it, at the start of every dialogue turn, on the dialogue loop (`DialogueThread`):

- messages the tracker does not have yet (`in_tracker = 0`) are appended as bot utterances,
  so the assistant's AI answers and the history see what a person said;
- the `language` slot holds the conversation's language, so responses speak it;
- the tracker is paused while the assistant must stay silent and resumed otherwise.

Nothing is written to the tracker anywhere else, so no write can be lost after a commit: a
failure here fails the turn, which the inbox retries. Writes are idempotent (by message id).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, Event, SlotSet

from supportdesk.messaging.conversations import WAITING_SLOT, find_conversation, load_conversation
from supportdesk.messaging.outbox import message_id_of
from supportdesk.platform.database import Database

MESSAGE_ID_KEY = "message_id"
LANGUAGE_SLOT = "language"  # responses choose their variation by it (domain.yml)
ATTENDANT_KEY = "attendant_id"
MESSAGE_TYPE_KEY = "message_type"  # set for a template: the history shows `type: template`


def pending_rows(database: Database, conversation_id: str) -> List[Dict[str, Any]]:
    """Attendant and system messages of the conversation that the tracker does not have yet."""
    return database.execute(
        "SELECT id, origin, attendant_id, response_name, message, preview, created_at FROM outbox_messages "
        "WHERE conversation_id = ? AND in_tracker = 0 ORDER BY id",
        (conversation_id,),
    )


def mark_in_tracker(database: Database, row_ids: Sequence[int]) -> None:
    """Remember that these rows are now in the tracker."""
    if not row_ids:
        return
    marks = ", ".join("?" for _ in row_ids)
    with database.transaction() as cursor:
        cursor.execute(f"UPDATE outbox_messages SET in_tracker = 1 WHERE id IN ({marks})", tuple(row_ids))


def text_of(message: Mapping[str, Any]) -> str:
    """The text a Graph API message object shows the customer (text body or interactive body)."""
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "interactive":
        return str(((message.get("interactive") or {}).get("body") or {}).get("text") or "")
    return ""


def row_text(row: Mapping[str, Any]) -> str:
    """An outbox row's text; a template keeps the rendered body as its preview (its message has only values)."""
    return text_of(json.loads(row["message"])) or str(row.get("preview") or "")


def utterance_for(row: Mapping[str, Any]) -> BotUttered:
    """An outbox row (attendant or system message) as the bot utterance the tracker keeps."""
    metadata: Dict[str, Any] = {MESSAGE_ID_KEY: message_id_of(int(row["id"]))}
    if row["origin"] == "attendant":
        metadata[ATTENDANT_KEY] = row["attendant_id"]
    elif row["response_name"]:
        metadata["utter_action"] = row["response_name"]
    if json.loads(row["message"]).get("type") == "template":
        metadata[MESSAGE_TYPE_KEY] = "template"
    return BotUttered(row_text(row), metadata=metadata, timestamp=float(row["created_at"]))


def resume() -> List[Event]:
    """The assistant answers again, from a listening state.

    While paused Rasa logs the customer's messages but runs no action, so the last action is
    still the handoff; without a fresh `action_listen` the next message would not match the
    designers' rules (which start after `action_listen`).
    """
    return [ConversationResumed(), ActionExecuted(ACTION_LISTEN_NAME)]


def catch_up_events(
    tracker: Any,
    rows: Sequence[Mapping[str, Any]],
    silent: bool,
    language: Optional[str] = None,
    waiting: Optional[bool] = None,
) -> List[Event]:
    """What the tracker lacks: language, whether a person is awaited, unrecorded rows, then the pause or resume."""
    known = {
        (event.metadata or {}).get(MESSAGE_ID_KEY) for event in tracker.events if isinstance(event, BotUttered)
    } if rows else set()
    events: List[Event] = []
    if language and tracker.get_slot(LANGUAGE_SLOT) != language:
        events.append(SlotSet(LANGUAGE_SLOT, language))
    if waiting is not None and bool(tracker.get_slot(WAITING_SLOT)) != waiting:
        events.append(SlotSet(WAITING_SLOT, waiting))
    events.extend(utterance_for(row) for row in rows if message_id_of(int(row["id"])) not in known)
    if silent and not tracker.is_paused():
        events.append(ConversationPaused())
    elif not silent and tracker.is_paused():
        events.extend(resume())
    return events


async def bring_up_to_date(agent: Any, database: Database, conversation_id: str) -> int:
    """Make the tracker agree with the database (run on the dialogue loop); returns events appended."""
    rows = await database.run(pending_rows, database, conversation_id)
    conversation = await database.run(load_conversation, database, conversation_id)
    silent = conversation is not None and conversation.bot_is_silent
    language = conversation.language if conversation is not None else None
    waiting = conversation.status == "waiting" if conversation is not None else None
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.fetch_tracker_with_initial_session(conversation_id)
        events = catch_up_events(tracker, rows, silent, language, waiting)
        for event in events:
            tracker.update(event)
        if events:
            await agent.tracker_store.save(tracker)
    await database.run(mark_in_tracker, database, [int(row["id"]) for row in rows])
    return len(events)


def _catch_up_inputs(
    database: Database, conversation_id: str
) -> Tuple[List[Dict[str, Any]], bool, Optional[str], Optional[bool]]:
    """The rows the tracker lacks, whether the assistant is silent, the language and whether the customer waits."""
    with database.transaction(immediate=False) as cursor:
        rows = cursor.execute(
            "SELECT id, origin, attendant_id, response_name, message, preview, created_at FROM outbox_messages "
            "WHERE conversation_id = ? AND in_tracker = 0 ORDER BY id",
            (conversation_id,),
        ).fetchall()
        conversation = find_conversation(cursor, conversation_id)
    if conversation is None:
        return rows, False, None, None
    return rows, conversation.bot_is_silent, conversation.language, conversation.status == "waiting"


async def take_turn(agent: Any, database: Database, message: Any) -> None:
    """Catch the tracker up with the database, then run the turn on it: one lock, one tracker read, one save.

    The same steps as Rasa's `Agent.handle_message` (`MessageProcessor.handle_message`), with the
    catch-up events applied to the tracker it reads, after the session check, so a new session
    starts with the pause state and the language the database holds.
    """
    conversation_id = message.sender_id
    rows, silent, language, waiting = await database.run(_catch_up_inputs, database, conversation_id)
    processor = agent.processor
    async with agent.lock_store.lock(conversation_id):
        tracker = await processor.fetch_tracker_and_update_session(
            conversation_id, message.output_channel, message.metadata
        )
        for event in catch_up_events(tracker, rows, silent, language, waiting):
            tracker.update(event)
        await processor._handle_message_with_tracker(message, tracker)
        tracker = await processor.run_action_extract_slots(message.output_channel, tracker)
        await processor._run_prediction_loop(message.output_channel, tracker)
        await processor.run_anonymization_pipeline(tracker)
        await processor.save_tracker(tracker)
    if rows:
        await database.run(mark_in_tracker, database, [int(row["id"]) for row in rows])


async def full_history(agent: Any, conversation_id: str) -> Optional[List[Dict[str, Any]]]:
    """Every event of the conversation (all sessions) as dicts, or None when Rasa never saw it."""
    tracker = await agent.tracker_store.retrieve_full_tracker(conversation_id)
    if tracker is None:
        return None
    return [event.as_dict() for event in tracker.events]


async def current_slots(agent: Any, conversation_id: str) -> Dict[str, Any]:
    """The conversation's slot values (for rendering responses outside a turn); empty when unknown."""
    tracker = await agent.tracker_store.retrieve(conversation_id)
    return dict(tracker.current_slot_values()) if tracker is not None else {}
