"""One dialogue turn per stored inbound message: Rasa decides, replies go to the outbox.

The replies of a message are queued in the same transaction that marks the message done.
If a replica dies after Rasa saved the turn but before that transaction, the retry finds
the turn in the tracker (by the wamid Rasa stored as `message_id`) and queues the replies
Rasa recorded then, instead of running the turn twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from supportdesk.messaging import inbox, outbox, stream_events
from supportdesk.messaging.conversations import Conversation, find_conversation
from supportdesk.messaging.history import SHOWN_TEXT_KEY, bot_text
from supportdesk.messaging.language import ENGLISH, remember_language
from supportdesk.messaging.typed_choices import typed_choice_in
from supportdesk.platform.database import Database
from supportdesk.platform.timestamps import iso_time
from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.rendering import render_bot_message

logger = logging.getLogger(__name__)

CHANNEL_NAME = "whatsapp"


@dataclasses.dataclass(frozen=True)
class TurnInput:
    """What a `before_turn` hook (media) made of a message: the dialogue's text, more metadata, the media shown."""

    text: Optional[str] = None  # replaces the message's own text (a voice note's transcript, `/share_audio`)
    metadata: Dict[str, Any] = dataclasses.field(default_factory=dict)
    media: Optional[Dict[str, Any]] = None  # the history's `media` object for the customer's message


class ReplyCollector(CollectingOutputChannel):
    """Keeps the assistant's replies to one message, whole (including `utter_action`)."""

    @classmethod
    def name(cls) -> str:
        """Replies are rendered for WhatsApp (response variations may target this channel)."""
        return CHANNEL_NAME

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Record the message as Rasa produced it; rendering happens when queueing."""
        self.messages.append(dict(message))


def drafts_for_replies(
    conversation_id: str, answers_wamid: Optional[str], replies: List[Dict[str, Any]], language: Optional[str] = None
) -> List[outbox.OutboxDraft]:
    """Turn the assistant's replies into outbox drafts numbered in order (words added in `language`)."""
    drafts: List[outbox.OutboxDraft] = []
    slots = {"language": language} if language else {}
    for reply in replies:
        for rendered in render_bot_message(reply, slots):
            drafts.append(
                outbox.OutboxDraft(
                    conversation_id=conversation_id,
                    message=rendered.message,
                    origin="bot",
                    preview=(reply.get("text") or "")[:200],
                    answers_wamid=answers_wamid,
                    seq=len(drafts),
                    response_name=reply.get("utter_action"),
                    numbered_choices=rendered.numbered_choices,
                )
            )
    return drafts


def replies_recorded_in(events: List[Any], wamid: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages Rasa recorded after the user turn `wamid`, or None if there is no such turn."""
    replies: Optional[List[Dict[str, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == wamid:
                replies = []
        elif isinstance(event, BotUttered) and replies is not None:
            replies.append(event.message())
    return replies


def customer_words(row: inbox.InboxRow, turn: Optional[TurnInput] = None) -> str:
    """What the customer said (a voice note's transcript), never a `/payload`: else the preview ("🎤 Voice message")."""
    said = [turn.text if turn else None, row.message.user_text]
    return next((text for text in said if text and not text.startswith("/")), row.message.preview)


def stream_messages(
    row: inbox.InboxRow, replies: List[Dict[str, Any]], now: float, turn: Optional[TurnInput] = None
) -> List[Dict[str, Any]]:
    """The customer's message and the assistant's replies as `message.created` data (ids as in the history)."""
    base = {"conversation_id": row.conversation_id, "attendant_id": None}
    customer = {
        **base,
        "id": row.wamid,
        "sender": "customer",
        "text": customer_words(row, turn),
        "timestamp": iso_time(float(row.message.timestamp or now)),
        "type": row.message.type,
        **({"media": turn.media} if turn and turn.media else {}),
    }
    bot = [
        {**base, "id": f"{row.wamid}:{index}", "sender": "bot", "text": bot_text(reply), "timestamp": iso_time(now)}
        for index, reply in enumerate(replies)
    ]
    return [customer, *bot]


@dataclasses.dataclass(frozen=True)
class TurnStart:
    """What the start of a turn read: earlier starts of the message (a crash), the language, the conversation,
    and the text Rasa gets (a typed "2" or option title resolved to the payload our last message offered)."""

    previous_starts: int
    text: str
    language: str
    conversation: Optional[Conversation]


class TurnProcessor:
    """Processes one inbox row: read receipt, tracker caught up, dialogue turn, replies queued, row done."""

    def __init__(
        self,
        database: Database,
        handle_message: Callable[[UserMessage], Awaitable[Any]],
        retrieve_events: Callable[[str], Awaitable[List[Any]]],
        catch_up_tracker: Optional[Callable[[str], Awaitable[Any]]],
        graph: Optional[GraphApiClient],
        on_queued: Callable[[], None],
        after_turn: Optional[Callable[[inbox.InboxRow], Awaitable[None]]] = None,
        default_language: str = ENGLISH,
        before_turn: Optional[Callable[[inbox.InboxRow], Awaitable[Optional[TurnInput]]]] = None,
    ) -> None:
        self._database = database
        self._handle_message = handle_message
        self._retrieve_events = retrieve_events
        self._catch_up_tracker = catch_up_tracker
        self._graph = graph
        self._on_queued = on_queued
        self._after_turn = after_turn
        self._default_language = default_language
        self._before_turn = before_turn  # media: downloaded and transcribed before the dialogue sees the message

    async def process(self, row: inbox.InboxRow) -> None:
        """Run the turn for `row` and queue its replies exactly once."""
        message = row.message
        text = message.user_text
        if text is None:
            await self._database.run(self._finish, row, [], [], "skipped")
            logger.info("whatsapp.message.recorded", extra={"wamid": row.wamid, "type": message.type})
            return
        turn = await self._before_turn(row) if self._before_turn is not None else None
        text = turn.text if turn is not None and turn.text is not None else text
        start = await self._database.run(self._start, row, text, text if turn else message.user_text or "")
        text = start.text
        replies = None
        if start.previous_starts > 0:
            replies = replies_recorded_in(await self._retrieve_events(row.conversation_id), row.wamid)
            if replies is not None:
                logger.warning("whatsapp.turn.recovered", extra={"wamid": row.wamid, "replies": len(replies)})
        if replies is None:
            self._acknowledge(row, start.conversation)
            # The database decides who answers (and in which language); a failure here fails the turn and the
            # inbox retries it.
            if self._catch_up_tracker is not None:  # None: `handle_message` catches up itself (tracker_bridge.take_turn)
                await self._catch_up_tracker(row.conversation_id)
            collector = ReplyCollector()
            waited_ms = round((time.time() - row.received_at) * 1000, 1) if row.received_at else None
            started = time.perf_counter()
            await self._handle_message(
                UserMessage(
                    text,
                    collector,
                    row.conversation_id,
                    input_channel=CHANNEL_NAME,
                    message_id=row.wamid,
                    metadata={
                        **message.metadata(), **(turn.metadata if turn else {}), SHOWN_TEXT_KEY: customer_words(row, turn)
                    },
                )
            )
            replies = collector.messages
            logger.info(
                "whatsapp.turn.completed",
                extra={
                    "wamid": row.wamid,
                    "rasa_ms": round((time.perf_counter() - started) * 1000, 1),
                    "waited_ms": waited_ms,
                    "replies": len(replies),
                },
            )
        drafts = drafts_for_replies(row.conversation_id, row.wamid, replies, start.language)
        await self._database.run(self._finish, row, drafts, replies, "done", turn)
        self._on_queued()
        if self._after_turn is not None:
            await self._after_turn(row)

    def _start(self, row: inbox.InboxRow, text: str, language_text: str) -> TurnStart:
        """One transaction: count the start, read `language_text` into the conversation's language, resolve a
        typed choice in `text`, read the conversation."""
        with self._database.transaction() as cursor:
            previous_starts = inbox.mark_started(cursor, row.wamid)
            language = remember_language(
                cursor, self._database.for_update, row.conversation_id, language_text, self._default_language, time.time()
            )
            text = typed_choice_in(cursor, row.conversation_id, text)
            conversation = find_conversation(cursor, row.conversation_id)
        return TurnStart(previous_starts, text, language, conversation)

    def _finish(
        self,
        row: inbox.InboxRow,
        drafts: List[outbox.OutboxDraft],
        replies: List[Dict[str, Any]],
        state: str,
        turn: Optional[TurnInput] = None,
    ) -> None:
        now = time.time()
        with self._database.transaction() as cursor:
            outbox.enqueue(cursor, drafts, now)
            inbox.mark_done(cursor, row.wamid, now, state)
            for message in stream_messages(row, replies, now, turn):
                stream_events.publish(cursor, stream_events.MESSAGE_CREATED, message, row.conversation_id)

    def _acknowledge(self, row: inbox.InboxRow, conversation: Optional[Conversation]) -> None:
        """Mark the message read, with the typing indicator when the assistant will answer."""
        if self._graph is None:
            return
        typing = conversation is not None and not conversation.bot_is_silent
        asyncio.create_task(self._mark_read(row.wamid, typing))

    async def _mark_read(self, wamid: str, typing: bool) -> None:
        try:
            await self._graph.mark_read(wamid, typing=typing)
        except Exception as error:  # a read receipt is a courtesy; never block the turn on it
            logger.warning("whatsapp.mark_read.failed", extra={"wamid": wamid, "error": type(error).__name__})

