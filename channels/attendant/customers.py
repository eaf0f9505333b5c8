"""`DELETE /customers/{id}`: the customer's right to be forgotten (admins only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError
from supportdesk.attendant import erasure
from supportdesk.attendant.tokens import Attendant
from supportdesk.runtime import get_runtime

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add the customer routes to `api`."""

    @api.route("/customers/<customer_id>", methods=["DELETE"])
    @channel.authorized
    async def erase_customer(request: Request, attendant: Attendant, customer_id: str) -> HTTPResponse:
        if not attendant.is_admin:
            raise ApiError(403, "forbidden", "Only an admin may erase a customer.")
        runtime = get_runtime()
        try:
            await erasure.erase_customer(
                runtime.database, runtime.dialogue.run, runtime.agent, customer_id, attendant.id,
                media_store=runtime.media_store,
            )
        except erasure.UnknownCustomer:
            raise ApiError(404, "not_found", "No customer with that id.") from None
        except (erasure.CustomerBusy, erasure.AssistantUnavailable):
            raise ApiError(503, "busy", "The customer's conversation is in use or the assistant is starting; retry shortly.") from None
        return response.empty(status=204)
