"""The OpenAPI 3 document of the attendant API (served at `/webhooks/attendant/openapi.json`).

A test compares its paths and methods with the routes the channel registers, so a route
cannot be added without being described here.
"""

from __future__ import annotations

from typing import Any, Dict, List

from supportdesk.attendant.conversation_pages import DEFAULT_LIMIT as DEFAULT_LIST_LIMIT
from supportdesk.attendant.conversation_pages import MAX_LIMIT as MAX_LIST_LIMIT
from supportdesk.attendant.openapi_lifecycle import lifecycle_paths
from supportdesk.attendant.openapi_media import media_paths
from supportdesk.attendant.openapi_workspace import workspace_paths
from supportdesk.messaging.history import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from supportdesk.whatsapp.limits import TEXT_MAX

BASE_PATH = "/webhooks/attendant"
EXAMPLE_WA_ID = "16315551181"  # the form of Meta's test numbers; the fuzz run seeds a conversation with it


def _ref(name: str) -> Dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Dict[str, Any], description: str) -> Dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> Dict[str, Any]:
    texts = {
        400: "Invalid input",
        401: "Missing, malformed, badly signed or expired token",
        403: "The caller's role may not do this",
        404: "Unknown conversation or appointment",
        409: "Conflict with the current state",
        413: "Body too large",
        502: "WhatsApp did not answer",
        503: "Database unavailable; retry",
    }
    return {str(status): _json(_ref("Error"), texts[status]) for status in (401, 503, *statuses)}


def _conversation_id() -> Dict[str, Any]:
    return {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "The customer's WhatsApp id (wa_id)", "example": EXAMPLE_WA_ID}


_SCHEMAS: Dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    },
    "Conversation": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string"},
            "customer_name": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": ["bot", "waiting", "human", "closed"]},
            "assigned_to": {"type": "string", "nullable": True},
            "last_message_at": {"type": "string", "format": "date-time", "nullable": True},
            "last_message_preview": {"type": "string", "nullable": True},
            "handoff_reason": {"type": "string", "nullable": True},
            "waiting_since": {"type": "string", "format": "date-time", "nullable": True},
            "summary": {"type": "string", "nullable": True, "description": "the AI's summary of a waiting customer's need"},
            "missed_at": {"type": "string", "format": "date-time", "nullable": True,
                          "description": "a wait for a person ran out unclaimed (status back to bot); null once a "
                                         "person claims, answers or resolves it, or the customer asks again"},
            "window_open_until": {"type": "string", "format": "date-time", "nullable": True,
                                  "description": "when the 24-hour window closes; null while closed"},
            "opted_out": {"type": "boolean", "description": "the customer asked for no more messages"},
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "sender", "text", "timestamp"],
        "properties": {
            "id": {"type": "string", "description": "wamid, <wamid>:<n> for the assistant's replies, out-<n> for ours"},
            "conversation_id": {"type": "string"},
            "sender": {"type": "string", "enum": ["customer", "bot", "attendant", "note"]},
            "text": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "attendant_id": {"type": "string", "nullable": True},
            "type": {"type": "string", "description": "what was sent: text, image, audio, video, document, sticker, "
                     "location, contacts, interactive, reaction, template, ..."},
            "media": {"allOf": [_ref("Media")], "nullable": True, "description": "the message's file; absent or null without one"},
            "status": {"type": "string", "enum": ["pending", "sending", "sent", "delivered", "read", "failed",
                                                   "suppressed", "logged"],
                       "description": "Delivery state of attendant and system messages"},
            "status_reason": {"type": "string", "nullable": True},
        },
    },
    "Media": {
        "type": "object",
        "required": ["id", "url", "status"],
        "properties": {
            "id": {"type": "string", "description": "our id of the file (not WhatsApp's)"},
            "mime_type": {"type": "string", "nullable": True},
            "size": {"type": "integer", "nullable": True, "description": "bytes, once stored"},
            "filename": {"type": "string", "nullable": True, "description": "a document's file name"},
            "caption": {"type": "string", "nullable": True},
            "transcript": {"type": "string", "nullable": True, "description": "a voice note's or audio's words; null until known"},
            "url": {"type": "string", "description": "/webhooks/attendant/media/{id}: GET it with the token for the bytes"},
            "status": {"type": "string", "enum": ["pending", "stored", "failed"]},
            "error": {"type": "string", "nullable": True, "description": "why it is unavailable, when failed"},
        },
    },
    "HistoryPage": {
        "type": "object",
        "required": ["messages", "next_before", "next_after"],
        "properties": {
            "messages": {"type": "array", "items": _ref("Message")},
            "next_before": {"type": "string", "nullable": True, "description": "before= for older messages; null: none"},
            "next_after": {"type": "string", "nullable": True, "description": "after= for newer messages; null: none yet"},
        },
    },
    "Appointment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "conversation_id": {"type": "string"},
            "customer_name": {"type": "string", "nullable": True},
            "starts_at": {"type": "string", "format": "date-time"},
            "starts_at_text": {"type": "string"},
            "service": {"type": "string", "nullable": True},
            "note": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": ["requested", "confirmed", "declined"]},
            "answered_by": {"type": "string", "nullable": True},
        },
    },
    "DeviceRegistration": {
        "type": "object",
        "required": ["token", "platform"],
        "properties": {
            "token": {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": "\\S",
                      "description": "the FCM registration token (surrounding spaces are dropped)"},
            "platform": {"type": "string", "enum": ["android", "ios"]},
        },
    },
    "Device": {
        "type": "object",
        "required": ["token", "platform"],
        "properties": {
            "token": {"type": "string"},
            "platform": {"type": "string", "enum": ["android", "ios"]},
            "attendant_id": {"type": "string"},
        },
    },
}


_EVENT_ID = {"type": "string", "pattern": "^[0-9]{1,18}$"}
_STREAM_EVENT = {
    "type": "object",
    "required": ["event", "data", "id"],
    "properties": {
        "event": {"type": "string", "enum": ["conversation.updated", "message.created", "message.status",
                                             "appointment.created", "appointment.updated"]},
        "data": {"type": "string", "description": "the conversation, message (with conversation_id) or appointment as JSON"},
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "send it back as Last-Event-ID to resume"},
    },
}


def _paths() -> Dict[str, Any]:
    conversation_id = _conversation_id()
    return {
        "/devices": {
            "post": {
                "summary": "Register the caller's device for pushes (idempotent per token)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("DeviceRegistration")}}},
                "responses": {"201": _json(_ref("Device"), "Registered"), **_errors(400, 413)},
            }
        },
        "/conversations": {
            "get": {
                "summary": "Conversations, newest activity first",
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["bot", "waiting", "human", "closed"]}},
                               {"name": "assigned", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["me"]}, "description": "only the caller's"},
                               {"name": "missed", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["yes"]},
                                "description": "only missed requests (missed_at set): nobody claimed them in time"},
                               {"name": "limit", "in": "query", "required": False, "schema": {
                                   "type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT, "default": DEFAULT_LIST_LIMIT}},
                               {"name": "before", "in": "query", "required": False,
                                "schema": {"type": "string", "pattern": "^[0-9]{1,12}(\\.[0-9]{1,20})?~.{1,200}$"},
                                "description": "next_before of the previous page"}],
                "responses": {
                    "200": _json({"type": "object", "properties": {
                        "conversations": {"type": "array", "items": _ref("Conversation")},
                        "next_before": {"type": "string", "nullable": True, "description": "before= for the next page"}}},
                        "The list"),
                    **_errors(400),
                },
            }
        },
        "/conversations/{conversation_id}": {
            "get": {
                "summary": "One conversation",
                "parameters": [conversation_id],
                "responses": {"200": _json(_ref("Conversation"), "The conversation"), **_errors(404)},
            }
        },
        "/conversations/{conversation_id}/messages": {
            "get": {
                "summary": "History a page at a time, oldest first within the page: the newest page by default, "
                           "the messages right after `after` (up to `before`), or right before `before`",
                "parameters": [
                    conversation_id,
                    {"name": "after", "in": "query", "required": False, "schema": {"type": "string"},
                     "description": "a message id: the page starts right after it (pass next_after to read on)"},
                    {"name": "before", "in": "query", "required": False, "schema": {"type": "string"},
                     "description": "a message id: the page ends right before it (pass next_before to read back)"},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}},
                ],
                "responses": {
                    "200": _json(_ref("HistoryPage"), "One page of the history"),
                    **_errors(400, 404),
                },
            },
            "post": {
                "summary": "Send text to the customer over WhatsApp (caller must hold the conversation)",
                "parameters": [conversation_id],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["text"],
                    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": TEXT_MAX, "pattern": "\\S"}}}}}},
                "responses": {
                    "202": _json({"type": "object", "properties": {"id": {"type": "string"}, "message": _ref("Message")}}, "Queued"),
                    **_errors(400, 404, 409, 413),
                },
            },
        },
        "/conversations/{conversation_id}/claim": {
            "post": {
                "summary": "Take a waiting (or bot) conversation; one of racing claims wins",
                "parameters": [conversation_id],
                "responses": {"200": _json(_ref("Conversation"), "Claimed"), **_errors(404, 409)},
            }
        },
        "/conversations/{conversation_id}/release": {
            "post": {
                "summary": "Give the conversation back to the assistant (holder or admin)",
                "parameters": [conversation_id],
                "responses": {"200": _json(_ref("Conversation"), "Released"), **_errors(404, 409)},
            }
        },
        "/customers/{customer_id}": {
            "delete": {
                "summary": "Erase everything kept about the customer: history, tracker, media, appointments, "
                           "events, pushes (admin only); afterwards the conversation is 404",
                "parameters": [{"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string"},
                                "example": EXAMPLE_WA_ID,
                                "description": "The customer's WhatsApp id (wa_id), the conversation id"}],
                "responses": {"204": {"description": "Erased"}, **_errors(403, 404)},
            }
        },
        "/appointments": {
            "get": {
                "summary": "Scheduling requests, soonest first",
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["requested", "confirmed", "declined"]}}],
                "responses": {
                    "200": _json({"type": "object", "properties": {"appointments": {"type": "array", "items": _ref("Appointment")}}}, "The list"),
                    **_errors(400),
                },
            }
        },
        **{
            f"/appointments/{{appointment_id}}/{answer}": {
                "post": {
                    "summary": f"{answer.title()} the request and tell the customer over WhatsApp",
                    "parameters": [{"name": "appointment_id", "in": "path", "required": True, "schema": {"type": "integer"},
                                    "example": 1}],
                    "requestBody": {"required": False, "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"message": {"type": "string", "nullable": True, "maxLength": TEXT_MAX,
                                                                     "description": "what the customer is told; "
                                                                                    "default: the standard answer"}}}}}},
                    "responses": {"200": _json(_ref("Appointment"), "Answered"), **_errors(400, 404, 409)},
                }
            }
            for answer in ("confirm", "decline")
        },
        "/stream": {
            "get": {
                "summary": "Server-Sent Events: conversation.updated, message.created, message.status "
                           "(also appointment.created, appointment.updated); resume with Last-Event-ID",
                "parameters": [
                    {"name": "Last-Event-ID", "in": "header", "required": False, "schema": _EVENT_ID,
                     "description": "the id of the last event received: the stream resumes after it"},
                    {"name": "last_event_id", "in": "query", "required": False, "schema": _EVENT_ID,
                     "description": "the same, for clients that cannot set headers"},
                ],
                "responses": {"200": {"description": "The events, as they happen",
                                      "content": {"text/event-stream": {"schema": _STREAM_EVENT}}},
                              **_errors(400)},
            }
        },
        **workspace_paths(_ref, _json, _errors, conversation_id),
        **lifecycle_paths(_ref, _json, _errors, conversation_id),
        **media_paths(_ref, _json, _errors, conversation_id),
        "/openapi.json": {
            "get": {"summary": "This document", "security": [],
                    "responses": {"200": {"description": "OpenAPI 3 document"}}}
        },
    }


def openapi_document() -> Dict[str, Any]:
    """The whole document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Attendant API", "version": "1.0.0",
                 "description": "REST API for the attendant app: queue, claim, history, reply, release, stream."},
        "servers": [{"url": BASE_PATH}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": _SCHEMAS,
        },
    }


def documented_operations() -> List[tuple]:
    """(method, path) pairs the document describes, for the route check."""
    return sorted((method.upper(), path) for path, item in _paths().items() for method in item)
