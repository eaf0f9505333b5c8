"""A conversation's history as the attendant API shows it, read from the Rasa tracker's events.

Message ids are stable: a customer turn is its `wamid`; the assistant's replies to it are
`<wamid>:<n>`; attendant and system messages carry their own id in the event's metadata
(`out-<outbox id>`), which is also how their delivery status is found. Attendant and system
messages sent since the last dialogue turn are not in the tracker yet (`tracker_bridge`
writes them at the next turn); they are added from the outbox rows, after the tracker's.

Media (`with_media`): a customer message's file is found by its wamid, an attendant's by its
outbox id; the caller reads the `media_files` rows of a page and passes their `media` objects.

The API shows it a page at a time (`history_page`): the newest `limit` messages, or those just
before `before=` or just after `after=` (message ids), in chronological order, with the ids to
ask for next. A long history is built in a worker thread, never on the server's event loop.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from supportdesk.messaging.outbox import message_id_of
from supportdesk.messaging.tracker_bridge import MESSAGE_TYPE_KEY, row_text
from supportdesk.platform.database import Database
from supportdesk.platform.timestamps import iso_time

ATTENDANT_KEY = "attendant_id"
MESSAGE_ID_KEY = "message_id"
SHOWN_TEXT_KEY = "shown_text"  # a customer turn's words as the attendant reads them (never a `/payload`)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500  # about 450 KB of JSON at most
_OUTBOX_ID_PREFIX = message_id_of(0).removesuffix("0")


class UnknownMessage(LookupError):
    """`before=` or `after=` names a message that is not in this conversation."""

    def __init__(self, parameter: str, message_id: str) -> None:
        super().__init__(f"{parameter}={message_id}")
        self.parameter = parameter


@dataclasses.dataclass(frozen=True)
class HistoryPage:
    """Some consecutive messages, oldest first, and the cursors to the messages around them."""

    messages: List[Dict[str, Any]]
    next_before: Optional[str]  # pass as before= for the older messages; None when there are none
    next_after: Optional[str]  # pass as after= for the newer messages; None when there are none

    def to_json(self) -> Dict[str, Any]:
        """The API's answer."""
        return {"messages": self.messages, "next_before": self.next_before, "next_after": self.next_after}


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


def customer_text(event: Mapping[str, Any]) -> str:
    """A customer turn's words: what the turn recorded for attendants, else its text unless it is a `/payload`."""
    shown = (event.get("metadata") or {}).get(SHOWN_TEXT_KEY)
    if shown is not None:
        return str(shown)
    text = event.get("text") or ""
    return "" if text.startswith("/") else text


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
            message = _message(conversation_id, last_user_id, "customer", customer_text(event), event)
            if metadata.get(MESSAGE_TYPE_KEY):  # what the customer sent: text, image, audio, ...
                message["type"] = metadata[MESSAGE_TYPE_KEY]
            messages.append(message)
        elif kind == "bot":
            own_id = metadata.get(MESSAGE_ID_KEY)
            if own_id is None:
                own_id = f"{last_user_id}:{replies_to_last}"
                replies_to_last += 1
            sender = "attendant" if metadata.get(ATTENDANT_KEY) else "bot"
            message = _message(conversation_id, own_id, sender, bot_text(event), event)
            message["attendant_id"] = metadata.get(ATTENDANT_KEY)
            if metadata.get(MESSAGE_TYPE_KEY):
                message["type"] = metadata[MESSAGE_TYPE_KEY]
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
        kind = json.loads(row["message"]).get("type")
        messages.append(
            {
                "id": message_id,
                "conversation_id": conversation_id,
                "sender": "attendant" if attendant else "bot",
                "text": row_text(row),
                "timestamp": iso_time(float(row["created_at"])),
                "attendant_id": row["attendant_id"] if attendant else None,
                **({"type": kind} if kind == "template" else {}),
            }
        )
    return messages


def media_ref(message: Mapping[str, Any]) -> Optional[str]:
    """The `media_files.message_ref` a message's file would carry: its wamid, or its outbox id as text."""
    if message.get("sender") == "customer":
        return str(message["id"])
    if message.get("sender") == "attendant" and _is_outbox_id(str(message["id"])):
        return str(message["id"])[len(_OUTBOX_ID_PREFIX) :]
    return None


def with_media(messages: List[Dict[str, Any]], media: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Add `media` (and `type` when unknown) to the messages whose ref (`media_ref`) has a file in `media`."""
    for message in messages:
        ref = media_ref(message)
        found = media.get(ref) if ref is not None else None
        if found is not None:
            message["media"] = dict(found)
            message.setdefault("type", _kind_of(found.get("mime_type")))
    return messages


def _kind_of(mime_type: Optional[str]) -> str:
    """The WhatsApp message type a file of this MIME type is sent as (for attendants' sends)."""
    top = (mime_type or "").split("/")[0]
    if (mime_type or "").startswith("image/webp"):
        return "sticker"
    return top if top in ("image", "audio", "video") else "document"


def _message(conversation_id: str, message_id: str, sender: str, text: str, event: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        "id": message_id,
        "conversation_id": conversation_id,
        "sender": sender,
        "text": text,
        "timestamp": iso_time(event.get("timestamp")),
        "attendant_id": None,
    }


def page(
    messages: List[Dict[str, Any]], limit: int = DEFAULT_PAGE_SIZE, before: Optional[str] = None, after: Optional[str] = None
) -> HistoryPage:
    """The `limit` messages right after `after=` (then up to `before=`), else the `limit` right before `before=`, else the newest."""
    start = _position(messages, "after", after) + 1 if after else 0
    end = _position(messages, "before", before) if before else len(messages)
    end = max(end, start)
    if after:
        end = min(end, start + limit)
    else:
        start = max(start, end - limit)
    chosen = messages[start:end]
    return HistoryPage(
        messages=chosen,
        next_before=chosen[0]["id"] if chosen and start > 0 else None,
        next_after=chosen[-1]["id"] if chosen and end < len(messages) else None,
    )


def history_page(
    conversation_id: str,
    events: Iterable[Mapping[str, Any]],
    pending: Sequence[Mapping[str, Any]],
    limit: int = DEFAULT_PAGE_SIZE,
    before: Optional[str] = None,
    after: Optional[str] = None,
) -> HistoryPage:
    """One page of the conversation: tracker events and pending outbox rows merged, then paged (run it in a thread)."""
    return page(with_pending(conversation_id, messages_from_events(conversation_id, events), pending), limit, before, after)


def delivery_states(database: Database, conversation_id: str, messages: Sequence[Mapping[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """The delivery state of the attendant and system messages among `messages`, keyed by message id."""
    outbox_ids = [int(m["id"][len(_OUTBOX_ID_PREFIX) :]) for m in messages if _is_outbox_id(m["id"])]
    if not outbox_ids:
        return {}
    marks = ", ".join("?" for _ in outbox_ids)
    rows = database.execute(
        "SELECT id, state, failure_reason FROM outbox_messages "
        f"WHERE conversation_id = ? AND origin IN ('attendant', 'system') AND id IN ({marks})",
        (conversation_id, *outbox_ids),
    )
    return {message_id_of(row["id"]): {"status": row["state"], "reason": row["failure_reason"]} for row in rows}


def _is_outbox_id(message_id: str) -> bool:
    digits = message_id[len(_OUTBOX_ID_PREFIX) :]
    return message_id.startswith(_OUTBOX_ID_PREFIX) and digits.isascii() and digits.isdigit() and len(digits) <= 18


def _position(messages: Sequence[Mapping[str, Any]], parameter: str, message_id: str) -> int:
    for position, message in enumerate(messages):
        if message["id"] == message_id:
            return position
    raise UnknownMessage(parameter, message_id)


def with_delivery(messages: List[Dict[str, Any]], states: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Add `status` (and `status_reason`) to messages whose delivery we track (keyed by message id)."""
    for message in messages:
        state = states.get(message["id"])
        if state is not None:
            message["status"] = state["status"]
            message["status_reason"] = state.get("reason")
    return messages
