"""Message templates: the approved list, and sending one (the way to reach a customer after 24 hours)."""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.requests import ApiError, json_body
from supportdesk.attendant.tokens import Attendant
from supportdesk.handoff import lifecycle
from supportdesk.handoff.lifecycle import LifecycleRefused, Refused, TemplateDraft
from supportdesk.handoff.state import timeouts_from
from supportdesk.runtime import Runtime, get_runtime
from supportdesk.whatsapp.graph_errors import GraphApiError
from supportdesk.whatsapp.templates import TemplateCatalog, TemplateProblem

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

_catalogs: weakref.WeakKeyDictionary[Runtime, TemplateCatalog] = weakref.WeakKeyDictionary()


def catalog(runtime: Runtime) -> TemplateCatalog:
    """This process's template catalog (one per runtime, so its cache lives as long as the settings)."""
    found = _catalogs.get(runtime)
    if found is None:
        found = TemplateCatalog(runtime.graph, runtime.settings.whatsapp_business_account_id)
        _catalogs[runtime] = found
    return found


def refusal(refused: LifecycleRefused) -> ApiError:
    """The API answer for a refused lifecycle operation."""
    if refused.reason is Refused.NOT_FOUND:
        return ApiError(404, "not_found", "No conversation with that id.")
    if refused.reason is Refused.OPTED_OUT:
        return ApiError(409, "opted_out", "The customer asked for no more messages.")
    return ApiError(409, "held_by_other", "Another attendant holds this conversation.")


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add `GET /templates` and `POST /conversations/{id}/template` to `api`."""

    @api.route("/templates", methods=["GET"])
    @channel.authorized
    async def templates(request: Request, attendant: Attendant) -> HTTPResponse:
        try:
            found = await catalog(get_runtime()).templates()
        except GraphApiError as error:
            raise ApiError(502, "templates_unavailable", f"WhatsApp did not list the templates ({error.reason}).") from None
        return response.json({"templates": [template.to_json() for template in found]})

    @api.route("/conversations/<conversation_id>/template", methods=["POST"])
    @channel.authorized
    async def send_template(request: Request, attendant: Attendant, conversation_id: str) -> HTTPResponse:
        body = json_body(request)
        runtime = get_runtime()
        try:
            template = await catalog(runtime).find(body.get("name"), body.get("language"), body.get("parameters", []))
        except TemplateProblem as problem:
            raise ApiError(400, problem.code, str(problem)) from None
        except GraphApiError as error:
            raise ApiError(502, "templates_unavailable", f"WhatsApp did not list the templates ({error.reason}).") from None
        values = body.get("parameters", [])
        draft = TemplateDraft(template.message(values), template.render(values))
        database = runtime.database
        timeouts = timeouts_from(runtime.settings)
        try:
            message = await database.run(
                lifecycle.send_template, database, conversation_id, attendant.id, draft, timeouts, time.time()
            )
        except LifecycleRefused as refused:
            raise refusal(refused) from None
        runtime.wake_sender()
        return response.json({"id": message["id"], "message": message}, status=202)
