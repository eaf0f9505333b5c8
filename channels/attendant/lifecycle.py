"""Resolve: an attendant closes a conversation, and the customer is asked how satisfied they were."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError
from channels.attendant.templates import catalog, refusal
from supportdesk.attendant.tokens import Attendant
from supportdesk.handoff import lifecycle
from supportdesk.handoff.lifecycle import LifecycleRefused, TemplateDraft, send_template_notice
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.redaction import mask_phone
from supportdesk.runtime import get_runtime
from supportdesk.scheduling.appointments import Appointment
from supportdesk.scheduling.reminders import ReminderSender, schedule_reminder
from supportdesk.whatsapp.templates import Template

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

logger = logging.getLogger(__name__)
SATISFACTION_QUESTION = "utter_satisfaction_question"  # reply buttons, in the customer's language
REMINDER_PERIOD_SECONDS = 30.0  # reminders are due hours ahead: half a minute late is on time


def reminder_sender(channel: AttendantInput) -> ReminderSender:
    """The appointment reminders of this replica, sent through the channel's desk."""
    runtime = get_runtime()
    template = runtime.settings.appointment_reminder_template
    return ReminderSender(channel.desk, catalog(runtime), template, runtime.wake_sender)


async def update_template_if_window_closed(conversation_id: str) -> Optional[Template]:
    """None inside the window; outside it `APPOINTMENT_UPDATE_TEMPLATE`, or a 409 when it cannot be sent."""
    runtime = get_runtime()
    database = runtime.database
    conversation = await database.run(load_conversation, database, conversation_id)
    if conversation is None or conversation.window_open():
        return None
    name = runtime.settings.appointment_update_template
    template = await catalog(runtime).named(name, conversation.language) if name else None
    if template is None or template.parameters != 2:
        raise ApiError(409, "window_closed", "The 24-hour window is closed and no APPOINTMENT_UPDATE_TEMPLATE is approved.")
    if conversation.opted_out:
        raise ApiError(409, "opted_out", "The customer asked for no more messages.")
    return template


async def after_appointment_answer(answered: Appointment, template: Optional[Template]) -> None:
    """Send the update template (outside the window) and schedule the reminder of a confirmed appointment."""
    runtime = get_runtime()
    database = runtime.database
    now = time.time()
    if template is not None:
        values = [answered.customer_name or "-", answered.starts_at_text]
        draft = TemplateDraft(template.message(values), template.render(values))
        await database.run(send_template_notice, database, answered.conversation_id, draft, now)
        runtime.wake_sender()
    if answered.status == "confirmed":
        hours = runtime.settings.appointment_reminder_hours
        await database.run(schedule_reminder, database, answered.id, hours, now)


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add `POST /conversations/{id}/resolve` to `api`."""

    reminders: dict = {"task": None}

    @api.listener("after_server_start")
    async def start_reminders(app: Any, _: Any) -> None:
        if channel.runs_timers:  # beside the handoff timers, in every replica; each reminder is taken once
            reminders["task"] = asyncio.create_task(reminder_sender(channel).run_loop(REMINDER_PERIOD_SECONDS))

    @api.listener("before_server_stop")
    async def stop_reminders(_: Any, __: Any) -> None:
        task: Optional[asyncio.Task] = reminders["task"]
        if task is not None:
            task.cancel()

    @api.route("/conversations/<conversation_id>/resolve", methods=["POST"])
    @channel.authorized
    async def resolve(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        database = get_runtime().database
        current = await database.run(load_conversation, database, conversation_id)
        if current is None:
            raise ApiError(404, "not_found", "No conversation with that id.")
        ask = current.status != "closed" and current.window_open()
        try:
            resolved = await database.run(
                lifecycle.resolve, database, conversation_id, attendant.id, attendant.is_admin, ask, time.time()
            )
        except LifecycleRefused as refused:
            raise refusal(refused) from None
        logger.info("conversation.resolved", extra={"conversation": mask_phone(conversation_id), "attendant": attendant.id})
        if ask:
            await channel.desk.send_system_message(conversation_id, SATISFACTION_QUESTION)
        return response.json(resolved.to_json())
