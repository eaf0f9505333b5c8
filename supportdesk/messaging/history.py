"""A conversation's history as the attendant API shows it, read from the Rasa tracker's events.

Message ids are stable: a customer turn is its `wamid`; the assistant's replies to it are
`<wamid>:<n>`; attendant and system messages carry their own id in the event's metadata
(`out-<outbox id>`), which is also how their delivery status is found. Attendant and system
messages sent since the last dialogue turn are not in the tracker yet (`tracker_bridge`
writes them at the next turn); they are added from the outbox rows, after the tracker's.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from supportdesk.messaging.outbox import message_id_of
from supportdesk.messaging.tracker_bridge import text_of
from supportdesk.platform.timestamps import iso_time

ATTENDANT_KEY = "attendant_id"
MESSAGE_ID_KEY = "message_id"


class UnknownMessage(LookupError):
    """`after=` names a message that is not in this conversation."""


def bot_text(event: Mapping[str, Any]) -> str:
    text = event.get("text") or ""
    data = event.get("data") or event  # a tracker event keeps buttons under "data", a live reply at the top
    buttons = data.get("buttons") or data.get("quick_replies") or []
    if buttons:
        titles = " | ".join(str(button.get("title", "")) for button in buttons)
        text = f"{text}\n[{titles}]" if text else f"[{titles}]"
    if not text and data.get("image"):
        text = "[image]"
    if not text and data.get("attachment"):
        text = "[attachment]"
    return text


def messages_from_events(conversation_id: str, events: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Customer, bot and attendant turns in tracker order (events as `Event.as_dict()`)."""
    messages: List[Dict[str, Any]] = []
    last_user_id = "start"
    replies_to_last = 0
    for index, event in enumerate(events):
        kind = event.get("event")
        metadata = event.get("metadata") or {}
        if kind == "user":
            last_user_id = event.get("message_id") or f"evt-{index}"
            replies_to_last = 0
            messages.append(_message(conversation_id, last_user_id, "customer", event.get("text") or "", event))
        elif kind == "bot":
            own_id = metadata.get(MESSAGE_ID_KEY)
            if own_id is None:
                own_id = f"{last_user_id}:{replies_to_last}"
                replies_to_last += 1
            sender = "attendant" if metadata.get(ATTENDANT_KEY) else "bot"
            message = _message(conversation_id, own_id, sender, bot_text(event), event)
            message["attendant_id"] = metadata.get(ATTENDANT_KEY)
            messages.append(message)
    return messages


def with_pending(
    conversation_id: str, messages: List[Dict[str, Any]], rows: Sequence[Mapping[str, Any]]
) -> List[Dict[str, Any]]:
    """`messages` followed by the not-yet-tracked outbox rows (`tracker_bridge.pending_rows`) they lack.

    Read the rows before the tracker: a row written to the tracker in between is then found in
    the tracker, and the id check drops its second copy.
    """
    seen = {message["id"] for message in messages}
    for row in rows:
        message_id = message_id_of(int(row["id"]))
        if message_id in seen:
            continue
        attendant = row["origin"] == "attendant"
        messages.append(
            {
                "id": message_id,
                "conversation_id": conversation_id,
                "sender": "attendant" if attendant else "bot",
                "text": text_of(json.loads(row["message"])),
                "timestamp": iso_time(float(row["created_at"])),
                "attendant_id": row["attendant_id"] if attendant else None,
            }
        )
    return messages


def _message(conversation_id: str, message_id: str, sender: str, text: str, event: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        "id": message_id,
        "conversation_id": conversation_id,
        "sender": sender,
        "text": text,
        "timestamp": iso_time(event.get("timestamp")),
        "attendant_id": None,
    }


def page_after(messages: List[Dict[str, Any]], after: Optional[str]) -> List[Dict[str, Any]]:
    """The messages following the one with id `after` (all of them when `after` is None)."""
    if not after:
        return messages
    for position, message in enumerate(messages):
        if message["id"] == after:
            return messages[position + 1 :]
    raise UnknownMessage(after)


def with_delivery(messages: List[Dict[str, Any]], states: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Add `status` (and `status_reason`) to messages whose delivery we track (keyed by message id)."""
    for message in messages:
        state = states.get(message["id"])
        if state is not None:
            message["status"] = state["status"]
            message["status_reason"] = state.get("reason")
    return messages
