"""`GET /stream`: Server-Sent Events from the shared event log, resumable with `Last-Event-ID`."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from sanic import Blueprint
from sanic.request import Request

from channels.attendant.requests import last_event_id
from supportdesk.attendant.tokens import Attendant
from supportdesk.messaging import stream_events
from supportdesk.runtime import get_runtime

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

logger = logging.getLogger(__name__)

STREAM_POLL_SECONDS = 0.5
STREAM_HEARTBEAT_SECONDS = 15.0


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add the stream route to `api`."""

    @api.route("/stream", methods=["GET"])
    @channel.authorized
    async def stream(request: Request, attendant: Attendant) -> None:
        await _stream(request, attendant)


async def _stream(request: Request, attendant: Attendant) -> None:
    database = get_runtime().database
    last_id = last_event_id(request)
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
