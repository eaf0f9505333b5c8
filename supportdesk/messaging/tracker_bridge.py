"""Writes to a Rasa tracker from outside a dialogue turn (attendant replies, pause/resume), safely.

The conversation's lock from Rasa's lock store is held while the tracker is read, changed
and saved, so an attendant reply never interleaves with a turn running on another replica.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, Event


async def append_events(agent: Any, conversation_id: str, events: Sequence[Event]) -> None:
    """Append `events` to the conversation's tracker under its lock."""
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.fetch_tracker_with_initial_session(conversation_id)
        for event in events:
            tracker.update(event)
        await agent.tracker_store.save(tracker)


async def full_history(agent: Any, conversation_id: str) -> Optional[List[Dict[str, Any]]]:
    """Every event of the conversation (all sessions) as dicts, or None when Rasa never saw it."""
    store = agent.tracker_store
    tracker = await store.retrieve_full_tracker(conversation_id)
    if tracker is None:
        return None
    return [event.as_dict() for event in tracker.events]


def attendant_utterance(text: str, attendant_id: str, message_id: str, attendant_name: str) -> BotUttered:
    """An attendant's reply as a bot utterance the AI and the history both see."""
    return BotUttered(
        text,
        metadata={"attendant_id": attendant_id, "attendant_name": attendant_name, "message_id": message_id},
    )


def system_utterance(text: str, message_id: str, response_name: str) -> BotUttered:
    """A message the service sent on its own (queue reminders, give-up), kept in the history."""
    return BotUttered(text, metadata={"message_id": message_id, "utter_action": response_name})


def pause() -> ConversationPaused:
    """The assistant stops predicting while a person has the conversation."""
    return ConversationPaused()


def resume() -> List[Event]:
    """The assistant answers again, from a listening state.

    While paused Rasa logs the customer's messages but runs no action, so the last action is
    still the handoff; without a fresh `action_listen` the next message would not match the
    designers' rules (which start after `action_listen`).
    """
    return [ConversationResumed(), ActionExecuted(ACTION_LISTEN_NAME)]
