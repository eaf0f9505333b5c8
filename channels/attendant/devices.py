"""`POST /devices`: an attendant's phone registers for pushes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError, json_body
from supportdesk.attendant.alerts import MAX_TOKEN_CHARS, PLATFORMS, register_device
from supportdesk.attendant.tokens import Attendant
from supportdesk.runtime import get_runtime

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add the device routes to `api`."""

    @api.route("/devices", methods=["POST"])
    @channel.authorized
    async def devices(request: Request, attendant: Attendant) -> HTTPResponse:
        body = json_body(request)
        token, platform = body.get("token"), body.get("platform")
        if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN_CHARS:
            raise ApiError(400, "invalid_token", "token must be a non-empty FCM registration token.")
        if platform not in PLATFORMS:
            raise ApiError(400, "invalid_platform", "platform must be 'android' or 'ios'.")
        database = get_runtime().database
        await database.run(register_device, database, token.strip(), platform, attendant.id)
        return response.json({"token": token.strip(), "platform": platform, "attendant_id": attendant.id}, status=201)
