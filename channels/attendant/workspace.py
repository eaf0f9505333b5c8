"""The attendant's own workspace: who they are, their availability, saved replies, the team's figures."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError, json_body, one_of, query
from supportdesk.attendant.canned_responses import load_canned_responses
from supportdesk.attendant.stats import MAX_DAYS, team_stats
from supportdesk.attendant.tokens import Attendant
from supportdesk.attendant.workspace import is_available, set_available
from supportdesk.platform.settings import SUPPORTED_LANGUAGES
from supportdesk.runtime import get_runtime

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

DEFAULT_STATS_DAYS = 7


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add the workspace routes to `api`."""
    auth = channel.authorized

    @api.route("/me", methods=["GET"])
    @auth
    async def me(request: Request, attendant: Attendant) -> HTTPResponse:
        database = get_runtime().database
        available = await database.run(is_available, database, attendant.id)
        return response.json({"id": attendant.id, "name": attendant.name, "role": attendant.role, "available": available})

    @api.route("/me/availability", methods=["PUT"])
    @auth
    async def availability(request: Request, attendant: Attendant) -> HTTPResponse:
        available = json_body(request).get("available")
        if not isinstance(available, bool):
            raise ApiError(400, "invalid_available", "available must be true or false.")
        database = get_runtime().database
        await database.run(set_available, database, attendant.id, attendant.name, available, time.time())
        return response.json({"available": available})

    @api.route("/canned-responses", methods=["GET"])
    @auth
    async def canned_responses(request: Request, attendant: Attendant) -> HTTPResponse:
        language = one_of(request, "language", SUPPORTED_LANGUAGES) or get_runtime().settings.default_language
        entries = await asyncio.to_thread(load_canned_responses)
        return response.json({"canned_responses": [entry.to_json(language) for entry in entries]})

    @api.route("/stats", methods=["GET"])
    @auth
    async def stats(request: Request, attendant: Attendant) -> HTTPResponse:
        raw = query(request, "days")
        if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_DAYS):
            raise ApiError(400, "invalid_days", f"days must be a whole number from 1 to {MAX_DAYS}.")
        days = int(raw) if raw is not None else DEFAULT_STATS_DAYS
        database = get_runtime().database
        return response.json(await database.run(team_stats, database, days, time.time()))
