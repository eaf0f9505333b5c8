"""Internal notes on a conversation, and the AI's draft reply (`suggestion`): neither reaches the customer."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError, required_text
from supportdesk.attendant.notes import MAX_NOTE_CHARS, UnknownConversation, add_note
from supportdesk.attendant.tokens import Attendant
from supportdesk.knowledge.drafts import AiUnavailable, UnknownDraftConversation, draft_reply
from supportdesk.runtime import get_runtime

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add the note and suggestion routes to `api`."""
    auth = channel.authorized

    @api.route("/conversations/<conversation_id>/notes", methods=["POST"])
    @auth
    async def notes(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        text = required_text(request, MAX_NOTE_CHARS)
        database = get_runtime().database
        try:
            note = await database.run(add_note, database, conversation_id, attendant.id, text.strip(), time.time())
        except UnknownConversation:
            raise ApiError(404, "not_found", "No conversation with that id.") from None
        return response.json({"id": note["id"], "message": note}, status=201)

    @api.route("/conversations/<conversation_id>/suggestion", methods=["POST"])
    @auth
    async def suggestion(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        try:
            text = await draft_reply(get_runtime(), conversation_id)
        except UnknownDraftConversation:
            raise ApiError(404, "not_found", "No conversation with that id.") from None
        except AiUnavailable as unavailable:
            raise ApiError(503, "ai_unavailable", f"No draft could be written ({unavailable.reason}).") from None
        return response.json({"text": text})
