"""What happens around a handoff on the server: claims, attendant replies, release, and the timers.

Each operation first commits its database change (state, outbox row, stream event) and
then writes the matching events to the Rasa tracker, so the customer is never left without
a queued message even if the tracker write fails; the history then shows it at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, Mapping, Optional

from supportdesk.handoff import state as handoff

from supportdesk.messaging import outbox

from supportdesk.messaging import stream_events
from supportdesk.attendant.alerts import handoff_push, idle_push, notify
from supportdesk.attendant.tokens import Attendant
from supportdesk.messaging.conversations import Conversation, load_conversation
from supportdesk.platform.timestamps import iso_time
from supportdesk.handoff.state import HandoffTimeouts, TimerKind, TransitionResult
from supportdesk.attendant.push import PushSender
from supportdesk.platform.redaction import mask_phone
from supportdesk.runtime import Runtime
from supportdesk.messaging import tracker_bridge
from supportdesk.whatsapp.rendering import text_message

logger = logging.getLogger(__name__)

# Used when the domain has no such response (or no Rasa agent, in tests).
DEFAULT_TEXTS = {
    "utter_handoff_still_waiting": "Still finding someone free to help you. Thanks for your patience, you're in the queue.",
    "utter_handoff_gave_up": "Sorry, nobody from our team could pick up right now. I'm back to help in the meantime.",
    "utter_handoff_released": "You're back with the virtual assistant. Anything else I can help with?",
}


class NotHolder(Exception):
    """The caller does not hold the conversation."""


class UnknownConversation(LookupError):
    """No conversation with that id."""


class AttendantDesk:
    """The server side of the attendant API and the handoff timers of one replica."""

    def __init__(
        self,
        runtime: Runtime,
        agent_getter: Any,
        timeouts: HandoffTimeouts,
        push_sender: Optional[PushSender] = None,
        clock: Any = time.time,
    ) -> None:
        self._runtime = runtime
        self._agent_getter = agent_getter
        self._timeouts = timeouts
        self._push_sender = push_sender
        self._clock = clock

    @property
    def database(self):
        """The shared database."""
        return self._runtime.database

    @property
    def pushes(self) -> PushSender:
        """The push sender (FCM or the log)."""
        return self._push_sender or self._runtime.push_sender

    def _agent(self) -> Any:
        return self._agent_getter()

    async def claim(self, conversation_id: str, attendant: Attendant) -> TransitionResult:
        """Take the conversation; the assistant is paused when it was still answering."""
        before = await self.database.run(load_conversation, self.database, conversation_id)
        result = await self.database.run(
            handoff.claim, self.database, conversation_id, attendant.id, self._timeouts, self._clock()
        )
        if result.changed and before is not None and before.status in ("bot", "closed"):
            await self._write_tracker(conversation_id, [tracker_bridge.pause()])
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
            await self._write_tracker(conversation_id, tracker_bridge.resume())
            await self.send_system_message(conversation_id, "utter_handoff_released")
        return result

    async def reply(self, conversation_id: str, attendant: Attendant, text: str) -> Dict[str, Any]:
        """Queue the holder's text for WhatsApp, record it in the history, return the message."""
        return await self.send_customer_text(conversation_id, text, attendant, require_holder=True)

    async def send_customer_text(
        self, conversation_id: str, text: str, attendant: Attendant, require_holder: bool = False
    ) -> Dict[str, Any]:
        """Queue an attendant's text (a reply, or an answer to an appointment request) and record it."""
        now = self._clock()
        message = await self.database.run(self._queue_reply, conversation_id, attendant, text, now, require_holder)
        await self._write_tracker(
            conversation_id, [tracker_bridge.attendant_utterance(text, attendant.id, message["id"], attendant.name)]
        )
        self._runtime.wake_sender()
        return message

    def _queue_reply(
        self, conversation_id: str, attendant: Attendant, text: str, now: float, require_holder: bool
    ) -> Dict[str, Any]:
        with self.database.transaction() as cursor:
            row = cursor.execute(
                "SELECT status, assigned_to FROM conversations WHERE id = ?", (conversation_id,)
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
            message = {
                "id": outbox.message_id_of(outbox_id),
                "conversation_id": conversation_id,
                "sender": "attendant",
                "text": text,
                "timestamp": iso_time(now),
                "attendant_id": attendant.id,
                "status": "pending",
                "status_reason": None,
            }
            stream_events.publish(cursor, stream_events.MESSAGE_CREATED, message, conversation_id)
        return message

    async def send_system_message(self, conversation_id: str, response_name: str) -> None:
        """Queue one of the domain's handoff texts to the customer and record it in the history."""
        text = self._response_text(response_name)
        now = self._clock()
        message_id = await self.database.run(self._queue_system, conversation_id, response_name, text, now)
        await self._write_tracker(conversation_id, [tracker_bridge.system_utterance(text, message_id, response_name)])
        self._runtime.wake_sender()

    def _queue_system(self, conversation_id: str, response_name: str, text: str, now: float) -> str:
        with self.database.transaction() as cursor:
            draft = outbox.OutboxDraft(
                conversation_id, text_message(text), "system", preview=text[:200], response_name=response_name
            )
            [outbox_id] = outbox.enqueue(cursor, [draft], now)
            message_id = outbox.message_id_of(outbox_id)
            stream_events.publish(
                cursor,
                stream_events.MESSAGE_CREATED,
                {
                    "id": message_id,
                    "conversation_id": conversation_id,
                    "sender": "bot",
                    "text": text,
                    "timestamp": iso_time(now),
                    "attendant_id": None,
                    "status": "pending",
                    "status_reason": None,
                },
                conversation_id,
            )
        return message_id

    def _response_text(self, response_name: str) -> str:
        agent = self._agent()
        responses: Mapping[str, Any] = getattr(getattr(agent, "domain", None), "responses", None) or {}
        for variation in responses.get(response_name, []):
            if variation.get("text") and not variation.get("channel"):
                return str(variation["text"])
        return DEFAULT_TEXTS[response_name]

    async def _write_tracker(self, conversation_id: str, events: list) -> None:
        agent = self._agent()
        if agent is None or getattr(agent, "tracker_store", None) is None:
            logger.warning("handoff.tracker.unavailable", extra={"conversation": mask_phone(conversation_id)})
            return
        try:
            await tracker_bridge.append_events(agent, conversation_id, events)
        except Exception:
            logger.exception("handoff.tracker.write_failed", extra={"conversation": mask_phone(conversation_id)})

    async def run_due_timers(self) -> int:
        """Act on every handoff timer due now (taken by this replica only); returns how many."""
        due = await self.database.run(handoff.take_due_timers, self.database, self._timeouts, self._clock())
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
            await self.send_system_message(conversation.id, "utter_handoff_still_waiting")
        elif kind is TimerKind.GIVE_UP:
            await self._write_tracker(conversation.id, tracker_bridge.resume())
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

