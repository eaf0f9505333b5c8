"""Attendant API for the MAUI app (and the web console): `/webhooks/attendant/...`.

Register in `credentials.yml` as `channels.attendant.AttendantInput:`. Every call but
`/openapi.json` needs `Authorization: Bearer <JWT>` (HS256, `ATTENDANT_JWT_SECRET`).
Errors are `{"error": code, "message": text}`; no traceback ever reaches the caller.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.attendant.alerts import PLATFORMS, register_device
from supportdesk.attendant.openapi import openapi_document
from supportdesk.attendant.tokens import Attendant, TokenRejected, verify_token
from supportdesk.handoff.desk import AttendantDesk, NotHolder, UnknownConversation
from supportdesk.handoff.state import ClaimRefused, timeouts_from
from supportdesk.messaging import stream_events, tracker_bridge
from supportdesk.messaging.conversations import list_conversations, load_conversation
from supportdesk.messaging.history import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, UnknownMessage, delivery_states, history_page, with_delivery
from supportdesk.messaging.housekeeping import Retention, run_housekeeping_loop
from supportdesk.platform.database import DatabaseUnavailable
from supportdesk.platform.http_errors import ChannelBlueprint, MalformedJson, error_response, json_object
from supportdesk.platform.settings import get_settings
from supportdesk.runtime import get_runtime
from supportdesk.scheduling import appointments
from supportdesk.whatsapp.limits import TEXT_MAX as MAX_REPLY_CHARS

logger = logging.getLogger(__name__)

CHANNEL_NAME = "attendant"
MAX_BODY_BYTES = 64 * 1024
STATUSES = ("bot", "waiting", "human", "closed")
APPOINTMENT_STATUSES = ("requested", "confirmed", "declined")
# What the customer is told when the attendant answers without a message of their own.
APPOINTMENT_ANSWER_RESPONSES = {"confirm": "utter_appointment_confirmed", "decline": "utter_appointment_declined"}
STREAM_POLL_SECONDS = 0.5
STREAM_HEARTBEAT_SECONDS = 15.0
TIMER_PERIOD_SECONDS = 5.0
# Event ids are BIGINTs; 18 digits are more than any stream will reach, and SQLite cannot even
# compare a number past 2^63 (it raised OverflowError in the middle of an open stream).
EVENT_ID_MAX_DIGITS = 18

Handler = Callable[..., Awaitable[HTTPResponse]]


class ApiError(Exception):
    """An error answer: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def json_body(request: Request) -> Dict[str, Any]:
    """The request's JSON object, or a 400/413 ApiError."""
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", "The body is larger than 64 KiB.")
    try:
        return json_object(body)
    except MalformedJson as malformed:
        raise ApiError(400, "malformed_json", str(malformed)) from None


class AttendantInput(InputChannel):
    """The attendant REST API, its live stream, and this replica's handoff timers."""

    @classmethod
    def name(cls) -> Text:
        """URL segment: `/webhooks/attendant/...`."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """No credentials: the JWT secret is a setting."""
        return cls()

    def __init__(self, run_timers: bool = True) -> None:
        self._run_timers = run_timers
        self._desk: Optional[AttendantDesk] = None
        self._timer_task: Optional[asyncio.Task] = None
        self._housekeeping_task: Optional[asyncio.Task] = None

    @property
    def desk(self) -> AttendantDesk:
        """The desk of this process (built on first use)."""
        if self._desk is None:
            runtime = get_runtime()
            self._desk = AttendantDesk(
                runtime.database,
                timeouts_from(runtime.settings),
                lambda: runtime.push_sender,
                runtime.wake_sender,
                runtime.read_slots,
            )
        return self._desk

    def _authorized(self, handler: Handler) -> Handler:
        """Check the token, turn errors into JSON answers, never leak a traceback."""

        @functools.wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            get_runtime().bind_agent(getattr(request.app.ctx, "agent", None))
            try:
                attendant = _caller(request)
            except TokenRejected as rejected:
                return error_response(401, "unauthorized", str(rejected))
            try:
                return await handler(request, attendant, *args, **kwargs)
            except ApiError as error:
                return error_response(error.status, error.code, error.message)
            except DatabaseUnavailable:
                logger.error("attendant.database_unavailable", extra={"path": request.path})
                return error_response(503, "storage_unavailable", "The database is unavailable; retry shortly.")
            except Exception:
                logger.exception("attendant.request.failed", extra={"path": request.path})
                return error_response(500, "internal_error", "Something went wrong; it has been logged.")

        return wrapped

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Every route of the attendant API."""
        api = ChannelBlueprint(f"attendant_api_{uuid.uuid4().hex[:8]}")
        auth = self._authorized

        @api.route("/openapi.json", methods=["GET"])
        async def openapi(_: Request) -> HTTPResponse:
            return response.json(openapi_document())

        @api.route("/devices", methods=["POST"])
        @auth
        async def devices(request: Request, attendant: Attendant) -> HTTPResponse:
            body = json_body(request)
            token, platform = body.get("token"), body.get("platform")
            if not isinstance(token, str) or not token.strip() or len(token) > 4096:
                raise ApiError(400, "invalid_token", "token must be a non-empty FCM registration token.")
            if platform not in PLATFORMS:
                raise ApiError(400, "invalid_platform", "platform must be 'android' or 'ios'.")
            database = get_runtime().database
            await database.run(register_device, database, token.strip(), platform, attendant.id)
            return response.json({"token": token.strip(), "platform": platform, "attendant_id": attendant.id}, status=201)

        @api.route("/conversations", methods=["GET"])
        @auth
        async def conversations(request: Request, attendant: Attendant) -> HTTPResponse:
            status = _query(request, "status")
            if status is not None and status not in STATUSES:
                raise ApiError(400, "invalid_status", f"status must be one of {', '.join(STATUSES)}.")
            database = get_runtime().database
            found = await database.run(list_conversations, database, status)
            return response.json({"conversations": [conversation.to_json() for conversation in found]})

        @api.route("/conversations/<conversation_id>", methods=["GET"])
        @auth
        async def conversation(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
            return response.json((await self._conversation(conversation_id)).to_json())

        @api.route("/conversations/<conversation_id>/messages", methods=["GET"])
        @auth
        async def history(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
            await self._conversation(conversation_id)
            return response.json(await self._history(conversation_id, request))

        @api.route("/conversations/<conversation_id>/messages", methods=["POST"])
        @auth
        async def reply(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
            text = json_body(request).get("text")
            if not isinstance(text, str) or not text.strip():
                raise ApiError(400, "empty_text", "text must be a non-empty string.")
            if len(text) > MAX_REPLY_CHARS:
                raise ApiError(400, "text_too_long", f"text must be at most {MAX_REPLY_CHARS} characters.")
            try:
                message = await self.desk.reply(conversation_id, attendant, text)
            except UnknownConversation:
                raise ApiError(404, "not_found", "No conversation with that id.") from None
            except NotHolder:
                raise ApiError(409, "not_holder", "Claim the conversation before replying.") from None
            return response.json({"id": message["id"], "message": message}, status=202)

        @api.route("/conversations/<conversation_id>/claim", methods=["POST"])
        @auth
        async def claim(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
            result = await self.desk.claim(conversation_id, attendant)
            return self._transition_answer(result, "held_by_other", "Another attendant holds this conversation.")

        @api.route("/conversations/<conversation_id>/release", methods=["POST"])
        @auth
        async def release(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
            result = await self.desk.release(conversation_id, attendant)
            return self._transition_answer(result, "not_holder", "Only the attendant holding it (or an admin) may release it.")

        @api.route("/customers/<customer_id>", methods=["DELETE"])
        @auth
        async def erase_customer(request: Request, attendant: Attendant, customer_id: str) -> HTTPResponse:
            from supportdesk.attendant import erasure  # the one route of the right to be forgotten

            if not attendant.is_admin:
                raise ApiError(403, "forbidden", "Only an admin may erase a customer.")
            runtime = get_runtime()
            try:
                await erasure.erase_customer(runtime.database, runtime.dialogue.run, runtime.agent, customer_id, attendant.id)
            except erasure.UnknownCustomer:
                raise ApiError(404, "not_found", "No customer with that id.") from None
            except (erasure.CustomerBusy, erasure.AssistantUnavailable):
                raise ApiError(503, "busy", "The customer's conversation is in use or the assistant is starting; retry shortly.") from None
            return response.empty(status=204)

        @api.route("/appointments", methods=["GET"])
        @auth
        async def appointment_list(request: Request, attendant: Attendant) -> HTTPResponse:
            status = _query(request, "status")
            if status is not None and status not in APPOINTMENT_STATUSES:
                raise ApiError(400, "invalid_status", f"status must be one of {', '.join(APPOINTMENT_STATUSES)}.")
            database = get_runtime().database
            found = await database.run(appointments.list_appointments, database, status)
            return response.json({"appointments": [appointment.to_json() for appointment in found]})

        @api.route("/appointments/<appointment_id:int>/<answer:confirm|decline>", methods=["POST"])
        @auth
        async def appointment_answer(request: Request, attendant: Attendant, appointment_id: int, answer: str) -> HTTPResponse:
            return await self._answer_appointment(request, attendant, appointment_id, answer)

        @api.route("/stream", methods=["GET"])
        @auth
        async def stream(request: Request, attendant: Attendant) -> None:
            await self._stream(request, attendant)

        @api.listener("after_server_start")
        async def start_timers(app: Any, _: Any) -> None:
            get_runtime().bind_agent(getattr(app.ctx, "agent", None))
            if self._run_timers:
                self._timer_task = asyncio.create_task(self.desk.run_timer_loop(TIMER_PERIOD_SECONDS))
                runtime = get_runtime()
                retention = Retention.from_settings(runtime.settings)
                self._housekeeping_task = asyncio.create_task(run_housekeeping_loop(runtime.database, retention))

        @api.listener("before_server_stop")
        async def stop_timers(_: Any, __: Any) -> None:
            if self._timer_task is not None:
                self._timer_task.cancel()
            if self._housekeeping_task is not None:
                self._housekeeping_task.cancel()

        return api

    async def _conversation(self, conversation_id: str):
        database = get_runtime().database
        found = await database.run(load_conversation, database, conversation_id)
        if found is None:
            raise ApiError(404, "not_found", "No conversation with that id.")
        return found

    async def _history(self, conversation_id: str, request: Request) -> Dict[str, Any]:
        """One page of history (`limit`, `before`, `after`); merging and paging run in a worker thread."""
        limit = _page_size(_query(request, "limit"))
        before, after = request.args.get("before") or None, request.args.get("after") or None
        runtime = get_runtime()
        database = runtime.database
        pending = await database.run(tracker_bridge.pending_rows, database, conversation_id)  # before the tracker
        events = await runtime.tracker_history(conversation_id)
        try:
            found = await asyncio.to_thread(history_page, conversation_id, events or [], pending, limit, before, after)
        except UnknownMessage as unknown:
            raise ApiError(400, "unknown_message", f"{unknown.parameter}= names no message of this conversation.") from None
        states = await database.run(delivery_states, database, conversation_id, found.messages)
        with_delivery(found.messages, states)
        return found.to_json()

    @staticmethod
    def _transition_answer(result: Any, conflict_code: str, conflict_message: str) -> HTTPResponse:
        if result.refused is ClaimRefused.NOT_FOUND:
            return error_response(404, "not_found", "No conversation with that id.")
        if result.refused is not None:
            return error_response(409, conflict_code, conflict_message)
        return response.json(result.conversation.to_json())

    async def _answer_appointment(self, request: Request, attendant: Attendant, appointment_id: int, answer: str) -> HTTPResponse:
        body = json_body(request)
        note = body.get("message")
        if note is not None and (not isinstance(note, str) or len(note) > MAX_REPLY_CHARS):
            raise ApiError(400, "invalid_message", f"message must be a string of at most {MAX_REPLY_CHARS} characters.")
        database = get_runtime().database
        existing = await database.run(appointments.load_appointment, database, appointment_id)
        if existing is None:
            raise ApiError(404, "not_found", "No appointment with that id.")
        answered = await database.run(
            appointments.answer_request, database, appointment_id, appointments.ANSWERS[answer], attendant.id
        )
        if answered is None:
            raise ApiError(409, "already_answered", f"The request is already {existing.status}.")
        text = (note or "").strip() or await self.desk.render_text(
            answered.conversation_id, APPOINTMENT_ANSWER_RESPONSES[answer], appointment_time=answered.starts_at_text
        )
        await self.desk.send_customer_text(answered.conversation_id, text, attendant)
        return response.json(answered.to_json())

    async def _stream(self, request: Request, attendant: Attendant) -> None:
        """Server-Sent Events from the shared event log, resumable with Last-Event-ID."""
        database = get_runtime().database
        last_id = _last_event_id(request)
        if last_id is None:
            last_id = await database.run(stream_events.latest_id, database)
        stream = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await stream.send(f"retry: 3000\n: connected as {attendant.id}\n\n")
        idle = 0.0
        logger.info("attendant.stream.opened", extra={"attendant": attendant.id, "from_event": last_id})
        try:
            while True:
                events = await database.run(stream_events.events_after, database, last_id)
                for event in events:
                    payload = json.dumps(event.data, ensure_ascii=False)
                    await stream.send(f"id: {event.id}\nevent: {event.event}\ndata: {payload}\n\n")
                    last_id = event.id
                if events:
                    idle = 0.0
                    continue
                await asyncio.sleep(STREAM_POLL_SECONDS)
                idle += STREAM_POLL_SECONDS
                if idle >= STREAM_HEARTBEAT_SECONDS:
                    await stream.send(": heartbeat\n\n")
                    idle = 0.0
        except (asyncio.CancelledError, ConnectionError):
            logger.info("attendant.stream.closed", extra={"attendant": attendant.id})
            raise


def _page_size(raw: Optional[str]) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= MAX_PAGE_SIZE):
        raise ApiError(400, "invalid_limit", f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return int(raw)


def _caller(request: Request) -> Attendant:
    """The attendant of the request's token, or TokenRejected (a header that is not ASCII included)."""
    settings = get_settings()
    authorization = request.headers.get("Authorization")
    if authorization is not None and not authorization.isascii():  # Sanic keeps undecodable bytes as surrogates
        raise TokenRejected("Authorization must be 'Bearer <token>' in ASCII")
    return verify_token(settings.attendant_jwt_secret, authorization, settings.attendant_token_max_hours * 3600)


def _query(request: Request, name: str) -> Optional[str]:
    """A query parameter as sent: None when absent, "" when blank (Sanic's `args` drops blank ones)."""
    return request.get_args(keep_blank_values=True).get(name)


def _last_event_id(request: Request) -> Optional[int]:
    """The event to resume after: the `Last-Event-ID` header, else `last_event_id=`; each must be an id if sent."""
    given = [raw for raw in (request.headers.get("Last-Event-ID"), _query(request, "last_event_id")) if raw is not None]
    if any(not (raw.isascii() and raw.isdigit() and len(raw) <= EVENT_ID_MAX_DIGITS) for raw in given):
        raise ApiError(400, "invalid_last_event_id", "Last-Event-ID must be an event id from this stream.")
    return int(given[0]) if given else None

