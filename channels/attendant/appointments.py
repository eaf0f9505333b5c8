"""Appointment requests: the list, and an attendant's confirm or decline (which answers the customer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.lifecycle import after_appointment_answer, update_template_if_window_closed
from channels.attendant.requests import ApiError, json_body, one_of
from supportdesk.attendant.tokens import Attendant
from supportdesk.runtime import get_runtime
from supportdesk.scheduling import appointments
from supportdesk.whatsapp.limits import TEXT_MAX as MAX_REPLY_CHARS

if TYPE_CHECKING:
    from channels.attendant.channel import AttendantInput

APPOINTMENT_STATUSES = ("requested", "confirmed", "declined")
# What the customer is told when the attendant answers without a message of their own.
APPOINTMENT_ANSWER_RESPONSES = {"confirm": "utter_appointment_confirmed", "decline": "utter_appointment_declined"}


def add_routes(api: Blueprint, channel: AttendantInput) -> None:
    """Add the appointment routes to `api`."""

    @api.route("/appointments", methods=["GET"])
    @channel.authorized
    async def appointment_list(request: Request, attendant: Attendant) -> HTTPResponse:
        status = one_of(request, "status", APPOINTMENT_STATUSES)
        database = get_runtime().database
        found = await database.run(appointments.list_appointments, database, status)
        return response.json({"appointments": [appointment.to_json() for appointment in found]})

    @api.route("/appointments/<appointment_id:int>/<answer:confirm|decline>", methods=["POST"])
    @channel.authorized
    async def appointment_answer(request: Request, attendant: Attendant, appointment_id: int, answer: str) -> HTTPResponse:
        body = json_body(request)
        note = body.get("message")
        if note is not None and (not isinstance(note, str) or len(note) > MAX_REPLY_CHARS):
            raise ApiError(400, "invalid_message", f"message must be a string of at most {MAX_REPLY_CHARS} characters.")
        database = get_runtime().database
        existing = await database.run(appointments.load_appointment, database, appointment_id)
        if existing is None:
            raise ApiError(404, "not_found", "No appointment with that id.")
        template = await update_template_if_window_closed(existing.conversation_id)  # 409 when none can be sent
        answered = await database.run(
            appointments.answer_request, database, appointment_id, appointments.ANSWERS[answer], attendant.id
        )
        if answered is None:
            raise ApiError(409, "already_answered", f"The request is already {existing.status}.")
        if template is None:
            text = (note or "").strip() or await channel.desk.render_text(
                answered.conversation_id, APPOINTMENT_ANSWER_RESPONSES[answer], appointment_time=answered.starts_at_text
            )
            await channel.desk.send_customer_text(answered.conversation_id, text, attendant)
        await after_appointment_answer(answered, template)
        return response.json(answered.to_json())
