"""OpenAPI paths beyond the 24-hour window: templates and resolve (merged into `openapi._paths`)."""

from __future__ import annotations

from typing import Any, Callable, Dict

TEMPLATE = {
    "type": "object",
    "required": ["name", "language", "category", "body", "parameters"],
    "properties": {
        "name": {"type": "string"},
        "language": {"type": "string", "description": "Meta's language code, e.g. pt_BR or en_US"},
        "category": {"type": "string", "description": "UTILITY, MARKETING or AUTHENTICATION"},
        "body": {"type": "string", "description": "the body text with its {{n}} placeholders"},
        "parameters": {"type": "integer", "description": "how many {{n}} the body has"},
    },
}
TEMPLATE_CALL = {
    "type": "object",
    "required": ["name", "language"],
    "properties": {
        "name": {"type": "string"},
        "language": {"type": "string"},
        "parameters": {"type": "array", "items": {"type": "string", "minLength": 1}, "description": "one per {{n}}"},
    },
}


def lifecycle_paths(
    ref: Callable[[str], Dict[str, Any]],
    json_content: Callable[[Dict[str, Any], str], Dict[str, Any]],
    errors: Callable[..., Dict[str, Any]],
    conversation_id: Dict[str, Any],
) -> Dict[str, Any]:
    """`GET /templates`, `POST /conversations/{id}/template`, `POST /conversations/{id}/resolve`."""
    return {
        "/templates": {
            "get": {
                "summary": "The business's approved WhatsApp message templates (empty without "
                           "WHATSAPP_BUSINESS_ACCOUNT_ID)",
                "responses": {
                    "200": json_content({"type": "object", "properties": {"templates": {"type": "array", "items": TEMPLATE}}},
                                        "Templates"),
                    **errors(502),
                },
            }
        },
        "/conversations/{conversation_id}/template": {
            "post": {
                "summary": "Send an approved template (allowed outside the 24-hour window); the caller holds the "
                           "conversation afterwards",
                "parameters": [conversation_id],
                "requestBody": {"required": True, "content": {"application/json": {"schema": TEMPLATE_CALL}}},
                "responses": {
                    "202": json_content({"type": "object", "properties": {"id": {"type": "string"}, "message": ref("Message")}},
                                        "Queued"),
                    **errors(400, 404, 409, 413, 502),
                },
            }
        },
        "/conversations/{conversation_id}/resolve": {
            "post": {
                "summary": "Close the conversation; the customer is asked how satisfied they are while the window is open",
                "parameters": [conversation_id],
                "responses": {"200": json_content(ref("Conversation"), "Closed"), **errors(404, 409)},
            }
        },
    }
