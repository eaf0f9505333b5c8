"""The attendant's workspace in the OpenAPI document: me, availability, notes, saved replies, drafts, stats."""

from __future__ import annotations

from typing import Any, Callable, Dict

from supportdesk.attendant.notes import MAX_NOTE_CHARS
from supportdesk.attendant.stats import MAX_DAYS

Ref = Callable[[str], Dict[str, str]]
Json = Callable[[Dict[str, Any], str], Dict[str, Any]]
Errors = Callable[..., Dict[str, Any]]

_DAY = {"type": "object", "properties": {"date": {"type": "string", "format": "date"},
                                         "conversations": {"type": "integer"}, "handoffs": {"type": "integer"},
                                         "resolved": {"type": "integer"}}}
_NULLABLE_NUMBER = {"type": "number", "nullable": True}
STATS_SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["conversations", "handoffs", "resolved", "bot_only_rate", "first_response_seconds_p50",
                 "resolution_seconds_p50", "csat_average", "by_day"],
    "properties": {
        "days": {"type": "integer"}, "since": {"type": "string", "format": "date"},
        "conversations": {"type": "integer", "description": "distinct customers who wrote in the window"},
        "handoffs": {"type": "integer"}, "resolved": {"type": "integer"},
        "bot_only_rate": {**_NULLABLE_NUMBER, "description": "share of those conversations never handed to a person"},
        "first_response_seconds_p50": {**_NULLABLE_NUMBER, "description": "handoff request to first attendant message"},
        "resolution_seconds_p50": {**_NULLABLE_NUMBER, "description": "handoff request to resolve"},
        "csat_average": {**_NULLABLE_NUMBER, "description": "average satisfaction answer; null before resolve exists"},
        "by_day": {"type": "array", "items": _DAY, "description": "one entry per UTC day, oldest first"},
    },
}


def workspace_paths(ref: Ref, json: Json, errors: Errors, conversation_id: Dict[str, Any]) -> Dict[str, Any]:
    """The workspace's paths, built with the main document's helpers."""
    text_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["text"],
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_CHARS, "pattern": "\\S"}}}}}}
    return {
        "/me": {"get": {
            "summary": "Who the token belongs to, and whether they take new conversations",
            "responses": {"200": json({"type": "object", "required": ["id", "name", "role", "available"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"},
                "role": {"type": "string", "enum": ["attendant", "admin"]}, "available": {"type": "boolean"}}}, "The caller"),
                **errors()},
        }},
        "/me/availability": {"put": {
            "summary": "Whether the caller takes new conversations (auto-assignment)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["available"], "properties": {"available": {"type": "boolean"}}}}}},
            "responses": {"200": json({"type": "object", "properties": {"available": {"type": "boolean"}}}, "Saved"),
                          **errors(400, 413)},
        }},
        "/conversations/{conversation_id}/notes": {"post": {
            "summary": "An internal note in the history (sender `note`), never sent to the customer",
            "parameters": [conversation_id],
            "requestBody": text_body,
            "responses": {"201": json({"type": "object", "properties": {"id": {"type": "string"}, "message": ref("Message")}},
                                      "Stored"), **errors(400, 404, 413)},
        }},
        "/conversations/{conversation_id}/suggestion": {"post": {
            "summary": "A draft reply from the knowledge files and the history (notes included); nothing is sent",
            "parameters": [conversation_id],
            "responses": {"200": json({"type": "object", "properties": {"text": {"type": "string"}}}, "The draft"),
                          **errors(404), "503": json(ref("Error"), "ai_unavailable: OpenAI is not configured or "
                                                                   "did not answer; or the database is unavailable")},
        }},
        "/canned-responses": {"get": {
            "summary": "The team's saved replies (data/canned_responses.yml)",
            "parameters": [{"name": "language", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["en", "pt-BR"]},
                            "description": "the language of `text` (default: DEFAULT_LANGUAGE)"}],
            "responses": {"200": json({"type": "object", "properties": {"canned_responses": {"type": "array", "items": {
                "type": "object", "properties": {"shortcut": {"type": "string"}, "text": {"type": "string"},
                                                 "texts": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
                "The saved replies"), **errors(400)},
        }},
        "/stats": {"get": {
            "summary": "The team's figures for the last `days` UTC days, today included",
            "parameters": [{"name": "days", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 7}}],
            "responses": {"200": json(STATS_SCHEMA, "The figures"), **errors(400)},
        }},
    }
