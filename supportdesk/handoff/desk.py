"""What happens around a handoff on the server: claims, attendant replies, release, and the timers.

The database alone decides who answers: every operation is one transaction (state, outbox
rows, stream event). Nothing here writes to the Rasa tracker; the next dialogue turn brings
the tracker in step (`messaging.tracker_bridge`), so a failed write can never leave the
assistant paused for a customer the database gave back to it. Texts the service sends on
its own are domain responses, rendered with the conversation's slots.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional

from supportdesk.attendant.alerts import handoff_push, idle_push, message_push, notify
from supportdesk.attendant.push import PushSender
from supportdesk.attendant.tokens import Attendant
from supportdesk.handoff import state as handoff
from supportdesk.handoff.holding import STILL_WAITING, business_hours_of, moment_of, outside_hours_response, reopens_at
from supportdesk.handoff.state import HandoffTimeouts, TimerKind, TransitionResult
from supportdesk.messaging import outbox, stream_events
from supportdesk.messaging.conversations import Conversation, load_conversation
from supportdesk.messaging.tracker_bridge import text_of
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.responses import ResponseRenderer, get_responses
from supportdesk.platform.settings import get_settings
from supportdesk.platform.timestamps import iso_time
from supportdesk.scheduling.business_hours import BusinessHours
from supportdesk.whatsapp.rendering import render_bot_message, text_message

logger = logging.getLogger(__name__)

SlotReader = Callable[[str], Awaitable[Mapping[str, Any]]]


async def no_slots(_: str) -> Mapping[str, Any]:
    """Slot reader for a process without a Rasa agent: responses render with their values only."""
    return {}


class NotHolder(Exception):
    """The caller does not hold the conversation."""


class UnknownConversation(LookupError):
    """No conversation with that id."""


class AttendantDesk:
    """The server side of the attendant API and the handoff timers of one replica."""

    def __init__(
        self,
        database: Database,
        timeouts: HandoffTimeouts,
        pushes: Callable[[], PushSender],
        wake_sender: Callable[[], None],
        read_slots: SlotReader = no_slots,
        responses: Optional[ResponseRenderer] = None,
        clock: Callable[[], float] = time.time,
        hours: Optional[BusinessHours] = None,
    ) -> None:
        self.database = database
        self._hours = hours  # None: `BUSINESS_HOURS` from the settings
        self._timeouts = timeouts
        self._pushes = pushes
        self._wake_sender = wake_sender
        self._read_slots = read_slots
        self._responses = responses
        self._clock = clock

    @property
    def pushes(self) -> PushSender:
        """The push sender (FCM or the log)."""
        return self._pushes()

    @property
    def responses(self) -> ResponseRenderer:
        """The domain's responses."""
        return self._responses or get_responses()

    async def claim(self, conversation_id: str, attendant: Attendant) -> TransitionResult:
        """Take the conversation; from then on the assistant is silent for this customer."""
        result = await self.database.run(
            handoff.claim, self.database, conversation_id, attendant.id, self._timeouts, self._clock()
        )
        if result.changed:
            logger.info("handoff.claimed", extra={"conversation": mask_phone(conversation_id), "attendant": attendant.id})
        return result

    async def release(self, conversation_id: str, attendant: Attendant) -> TransitionResult:
        """Give the conversation back to the assistant and tell the customer."""
        result = await self.database.run(
            handoff.release, self.database, conversation_id, attendant.id, attendant.is_admin, self._clock()
        )
        if result.changed:
            logger.info("handoff.released", extra={"conversation": mask_phone(conversation_id), "attendant": attendant.id})
            await self.send_system_message(conversation_id, "utter_handoff_released")
        return result

    async def reply(self, conversation_id: str, attendant: Attendant, text: str) -> Dict[str, Any]:
        """Queue the holder's text for WhatsApp, record it in the history, return the message."""
        return await self.send_customer_text(conversation_id, text, attendant, require_holder=True)

    async def send_customer_text(
        self, conversation_id: str, text: str, attendant: Attendant, require_holder: bool = False
    ) -> Dict[str, Any]:
        """Queue an attendant's text (a reply, or an answer to an appointment request) and record it."""
        message = await self.database.run(
            self._queue_reply, conversation_id, attendant, text, self._clock(), require_holder
        )
        self._wake_sender()
        return message

    def _queue_reply(
        self, conversation_id: str, attendant: Attendant, text: str, now: float, require_holder: bool
    ) -> Dict[str, Any]:
        with self.database.transaction() as cursor:
            row = cursor.execute(
                "SELECT status, assigned_to FROM conversations WHERE id = ?" + self.database.for_update,
                (conversation_id,),
            ).fetchone()
            if row is None:
                raise UnknownConversation(conversation_id)
            if require_holder and (row["status"] != "human" or row["assigned_to"] != attendant.id):
                raise NotHolder(conversation_id)
            draft = outbox.OutboxDraft(
                conversation_id, text_message(text), "attendant", preview=text[:200], attendant_id=attendant.id
            )
            [outbox_id] = outbox.enqueue(cursor, [draft], now)
            handoff.record_attendant_reply(cursor, conversation_id, self._timeouts, now)
            message = _stream_message(outbox.message_id_of(outbox_id), conversation_id, "attendant", text, now)
            message["attendant_id"] = attendant.id
            stream_events.publish(cursor, stream_events.MESSAGE_CREATED, message, conversation_id)
        return message

    async def render_text(self, conversation_id: str, response_name: str, **values: Any) -> str:
        """The text of a domain response for this customer (their slots filled in)."""
        return self.responses.text(response_name, await self._read_slots(conversation_id), **values)

    async def send_system_message(self, conversation_id: str, response_name: str, **values: Any) -> None:
        """Queue one of the domain's responses to the customer (rendered with their slots) and stream it."""
        slots = await self._read_slots(conversation_id)
        reply = self.responses.render(response_name, slots, **values)
        await self.database.run(self._queue_system, conversation_id, reply, slots, self._clock())
        self._wake_sender()

    def _queue_system(self, conversation_id: str, reply: Dict[str, Any], slots: Mapping[str, Any], now: float) -> None:
        name = reply.get("utter_action")
        rendered = render_bot_message(reply, slots)
        drafts = [
            outbox.OutboxDraft(
                conversation_id, part.message, "system", preview=(reply.get("text") or "")[:200],
                response_name=name, numbered_choices=part.numbered_choices,
            )
            for part in rendered
        ]
        with self.database.transaction() as cursor:
            for outbox_id, part in zip(outbox.enqueue(cursor, drafts, now), rendered):
                text = text_of(part.message)
                message = _stream_message(outbox.message_id_of(outbox_id), conversation_id, "bot", text, now)
                stream_events.publish(cursor, stream_events.MESSAGE_CREATED, message, conversation_id)

    @property
    def hours(self) -> BusinessHours:
        """The business hours the timers respect."""
        return self._hours or business_hours_of(get_settings())

    async def run_due_timers(self) -> int:
        """Act on every handoff timer due now (taken by this replica only); returns how many.

        Out of hours nothing reminds anyone: the timers restart at the opening, and a waiting
        customer is told once when the team is back.
        """
        now = self._clock()
        due = await self.database.run(
            handoff.take_due_timers, self.database, self._timeouts, now, 50, reopens_at(self.hours, now)
        )
        for timer in due:
            try:
                await self._fire(timer.kind, timer.conversation)
            except Exception:
                logger.exception("handoff.timer.failed", extra={"timer": timer.kind.value})
        return len(due)

    async def _fire(self, kind: TimerKind, conversation: Conversation) -> None:
        logger.info("handoff.timer.fired", extra={"timer": kind.value, "conversation": mask_phone(conversation.id)})
        if kind is TimerKind.CLAIM_REMINDER:
            await notify(self.database, self.pushes, handoff_push(conversation, reminder=True))
            await self.send_system_message(conversation.id, STILL_WAITING)
        elif kind is TimerKind.CLOSED:
            slots = await self._read_slots(conversation.id)
            response, values = outside_hours_response(self.hours, moment_of(self._clock()), slots)
            await self.send_system_message(conversation.id, response, **values)
        elif kind is TimerKind.GIVE_UP:
            await self.send_system_message(conversation.id, "utter_handoff_gave_up")
        else:
            await notify(self.database, self.pushes, idle_push(conversation), attendant_id=conversation.assigned_to)

    async def run_timer_loop(self, period_seconds: float = 5.0) -> None:
        """Check the timers every `period_seconds` until cancelled."""
        while True:
            try:
                await self.run_due_timers()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("handoff.timers.failed")
            await asyncio.sleep(period_seconds)


async def tell_holder(database: Database, pushes: PushSender, conversation_id: str, preview: str) -> None:
    """Push to the attendant holding the conversation that their customer wrote (a courtesy: never raises)."""
    try:
        conversation = await database.run(load_conversation, database, conversation_id)
        if conversation is None or conversation.status != "human" or not conversation.assigned_to:
            return
        await notify(database, pushes, message_push(conversation, preview), attendant_id=conversation.assigned_to)
    except Exception:  # the message is already stored and streamed
        logger.exception("push.holder.failed", extra={"conversation": mask_phone(conversation_id)})


def _stream_message(message_id: str, conversation_id: str, sender: str, text: str, now: float) -> Dict[str, Any]:
    """A `message.created` payload for a message just queued (same fields as the history)."""
    return {
        "id": message_id,
        "conversation_id": conversation_id,
        "sender": sender,
        "text": text,
        "timestamp": iso_time(now),
        "attendant_id": None,
        "status": "pending",
        "status_reason": None,
    }
