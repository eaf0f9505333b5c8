"""Resolve: an attendant closes a conversation, and the customer is asked how satisfied they were."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError
from channels.attendant.templates import refusal
from supportdesk.attendant.tokens import Attendant
from supportdesk.handoff import lifecycle
from supportdesk.handoff.lifecycle import LifecycleRefused
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.redaction import mask_phone
from supportdesk.runtime import get_runtime

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

logger = logging.getLogger(__name__)
SATISFACTION_QUESTION = "utter_satisfaction_question"  # reply buttons, in the customer's language


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add `POST /conversations/{id}/resolve` to `api`."""

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
