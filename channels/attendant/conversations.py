"""Conversations: the list, one conversation, its history, and claim / reply / release."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Dict, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError, one_of, query, required_text
from supportdesk.attendant.conversation_pages import DEFAULT_LIMIT as DEFAULT_LIST_LIMIT
from supportdesk.attendant.conversation_pages import MAX_LIMIT as MAX_LIST_LIMIT
from supportdesk.attendant.conversation_pages import InvalidCursor, conversation_page
from supportdesk.attendant.notes import history_page_with_notes, notes_of
from supportdesk.attendant.tokens import Attendant
from supportdesk.handoff.desk import NotHolder, UnknownConversation
from supportdesk.handoff.state import ClaimRefused, TransitionResult
from supportdesk.media.records import media_for_refs, media_json
from supportdesk.messaging import tracker_bridge
from supportdesk.messaging.conversations import Conversation, load_conversation
from supportdesk.messaging.history import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    UnknownMessage,
    delivery_states,
    media_ref,
    with_delivery,
    with_media,
)
from supportdesk.platform.http_errors import error_response
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.limits import TEXT_MAX as MAX_REPLY_CHARS

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

STATUSES = ("bot", "waiting", "human", "closed")


async def load_or_404(conversation_id: str) -> Conversation:
    """The conversation, or a 404 ApiError."""
    database = get_runtime().database
    found = await database.run(load_conversation, database, conversation_id)
    if found is None:
        raise ApiError(404, "not_found", "No conversation with that id.")
    return found


def transition_answer(result: TransitionResult, conflict_code: str, conflict_message: str) -> HTTPResponse:
    """200 with the conversation, 404 when unknown, 409 when refused."""
    if result.refused is ClaimRefused.NOT_FOUND:
        return error_response(404, "not_found", "No conversation with that id.")
    if result.refused is not None:
        return error_response(409, conflict_code, conflict_message)
    return response.json(result.conversation.to_json())


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add the conversation routes to `api`."""
    auth = channel.authorized

    @api.route("/conversations", methods=["GET"])
    @auth
    async def conversations(request: Request, attendant: Attendant) -> HTTPResponse:
        status = one_of(request, "status", STATUSES)
        assigned_to = attendant.id if one_of(request, "assigned", ("me",)) else None
        limit = _whole_number(query(request, "limit"), "limit", DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)
        missed = one_of(request, "missed", ("yes",)) is not None  # waits that ran out unclaimed, not yet followed up
        database = get_runtime().database
        try:
            found = await database.run(
                conversation_page, database, status, assigned_to, limit, query(request, "before"), missed
            )
        except InvalidCursor:
            raise ApiError(400, "invalid_before", "before must be a next_before value from this list.") from None
        return response.json(found.to_json())

    @api.route("/conversations/<conversation_id>", methods=["GET"])
    @auth
    async def conversation(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        return response.json((await load_or_404(conversation_id)).to_json())

    @api.route("/conversations/<conversation_id>/messages", methods=["GET"])
    @auth
    async def history(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        await load_or_404(conversation_id)
        return response.json(await _history(conversation_id, request))

    @api.route("/conversations/<conversation_id>/messages", methods=["POST"])
    @auth
    async def reply(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        text = required_text(request, MAX_REPLY_CHARS)
        if not (await load_or_404(conversation_id)).window_open():
            raise ApiError(409, "window_closed", "The 24-hour window is closed; send a template instead.")
        try:
            message = await channel.desk.reply(conversation_id, attendant, text)
        except UnknownConversation:
            raise ApiError(404, "not_found", "No conversation with that id.") from None
        except NotHolder:
            raise ApiError(409, "not_holder", "Claim the conversation before replying.") from None
        return response.json({"id": message["id"], "message": message}, status=202)

    @api.route("/conversations/<conversation_id>/claim", methods=["POST"])
    @auth
    async def claim(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        result = await channel.desk.claim(conversation_id, attendant)
        return transition_answer(result, "held_by_other", "Another attendant holds this conversation.")

    @api.route("/conversations/<conversation_id>/release", methods=["POST"])
    @auth
    async def release(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        result = await channel.desk.release(conversation_id, attendant)
        return transition_answer(result, "not_holder", "Only the attendant holding it (or an admin) may release it.")


async def _history(conversation_id: str, request: Request) -> Dict[str, Any]:
    """One page of history (`limit`, `before`, `after`); merging and paging run in a worker thread."""
    limit = _page_size(query(request, "limit"))
    before, after = request.args.get("before") or None, request.args.get("after") or None
    runtime = get_runtime()
    database = runtime.database
    pending = await database.run(tracker_bridge.pending_rows, database, conversation_id)  # before the tracker
    events = await runtime.tracker_history(conversation_id)
    notes = await database.run(notes_of, database, conversation_id)
    try:
        found = await asyncio.to_thread(
            history_page_with_notes, conversation_id, events or [], pending, notes, limit, before, after
        )
    except UnknownMessage as unknown:
        raise ApiError(400, "unknown_message", f"{unknown.parameter}= names no message of this conversation.") from None
    states = await database.run(delivery_states, database, conversation_id, found.messages)
    with_delivery(found.messages, states)
    refs = [ref for ref in map(media_ref, found.messages) if ref is not None]
    files = await database.run(media_for_refs, database, conversation_id, refs)
    with_media(found.messages, {ref: media_json(record) for ref, record in files.items()})
    return found.to_json()


def _page_size(raw: Optional[str]) -> int:
    return _whole_number(raw, "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _whole_number(raw: Optional[str], name: str, default: int, maximum: int) -> int:
    """A query parameter from 1 to `maximum` (`default` when absent), or 400 `invalid_<name>`."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= maximum):
        raise ApiError(400, f"invalid_{name}", f"{name} must be a whole number from 1 to {maximum}.")
    return int(raw)
