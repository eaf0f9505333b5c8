"""The attendant API as a Rasa input channel: authentication, error answers and this replica's loops."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant import appointments, conversations, customers, devices, lifecycle, media, notes, stream, templates, workspace
from channels.attendant.requests import ApiError, Handler, caller
from supportdesk.attendant.openapi import openapi_document
from supportdesk.attendant.tokens import TokenRejected
from supportdesk.handoff.desk import AttendantDesk
from supportdesk.handoff.state import timeouts_from
from supportdesk.handoff.workspace_loop import run_new_waits_loop
from supportdesk.media.retention import purge_media
from supportdesk.messaging.housekeeping import Retention, run_housekeeping_loop
from supportdesk.platform.database import DatabaseUnavailable
from supportdesk.platform.http_errors import ChannelBlueprint, error_response
from supportdesk.runtime import get_runtime

logger = logging.getLogger(__name__)

CHANNEL_NAME = "attendant"
TIMER_PERIOD_SECONDS = 5.0
ROUTE_MODULES = (devices, conversations, customers, appointments, stream, workspace, notes, templates, lifecycle, media)


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
        self._new_waits_task: Optional[asyncio.Task] = None

    @property
    def runs_timers(self) -> bool:
        """Whether this channel runs the replica's background loops (tests build it without)."""
        return self._run_timers

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

    def authorized(self, handler: Handler) -> Handler:
        """Check the token, turn errors into JSON answers, never leak a traceback."""

        @functools.wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            get_runtime().bind_agent(getattr(request.app.ctx, "agent", None))
            try:
                attendant = caller(request)
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

        @api.route("/openapi.json", methods=["GET"])
        async def openapi(_: Request) -> HTTPResponse:
            return response.json(openapi_document())

        for module in ROUTE_MODULES:
            module.add_routes(api, self)

        @api.listener("after_server_start")
        async def start_timers(app: Any, _: Any) -> None:
            get_runtime().bind_agent(getattr(app.ctx, "agent", None))
            if self._run_timers:
                self._timer_task = asyncio.create_task(self.desk.run_timer_loop(TIMER_PERIOD_SECONDS))
                runtime = get_runtime()
                retention = Retention.from_settings(runtime.settings)
                media_days = runtime.settings.media_retention_days
                self._housekeeping_task = asyncio.create_task(
                    run_housekeeping_loop(
                        runtime.database, retention,
                        also=lambda now: purge_media(runtime.database, runtime.media_store, now, media_days),
                    )
                )
                self._new_waits_task = asyncio.create_task(
                    run_new_waits_loop(runtime.database, runtime.tracker_history, runtime.settings, lambda: runtime.push_sender)
                )

        @api.listener("before_server_stop")
        async def stop_timers(_: Any, __: Any) -> None:
            if self._timer_task is not None:
                self._timer_task.cancel()
            if self._housekeeping_task is not None:
                self._housekeeping_task.cancel()
            if self._new_waits_task is not None:
                self._new_waits_task.cancel()

        return api
