"""OpenAPI paths of media: a stored file's bytes and sending a file (merged into `openapi._paths`)."""

from __future__ import annotations

from typing import Any, Callable, Dict

from supportdesk.whatsapp.limits import CAPTION_MAX, MEDIA_LIMITS

EXAMPLE_MEDIA_ID = "m_exampleMediaId0123456789ab"  # the fuzz run stores a file under this id
_ERROR = {"$ref": "#/components/schemas/Error"}
_BYTES = {"type": "string", "format": "binary"}
_ERROR_CONTENT = {"application/json": {"schema": _ERROR}}


def media_paths(
    ref: Callable[[str], Dict[str, Any]],
    json_content: Callable[[Dict[str, Any], str], Dict[str, Any]],
    errors: Callable[..., Dict[str, Any]],
    conversation_id: Dict[str, Any],
) -> Dict[str, Any]:
    """`GET /media/{media_id}` and `POST /conversations/{conversation_id}/media`."""
    return {
        "/media/{media_id}": {
            "get": {
                "summary": "The bytes of a customer's or attendant's media file (the `url` of a message's `media`); "
                           "one byte range may be asked for, so audio and video can seek",
                "parameters": [
                    {"name": "media_id", "in": "path", "required": True, "schema": {"type": "string"},
                     "example": EXAMPLE_MEDIA_ID, "description": "the `id` of a message's `media`"},
                    {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"},
                     "description": "bytes=first-last, bytes=first- or bytes=-suffix_length; anything else is "
                                    "ignored and the whole file is served"},
                ],
                "responses": {
                    "200": {"description": "The whole file, with its Content-Type and Content-Length",
                            "content": {"*/*": {"schema": _BYTES}}},
                    "206": {"description": "The range asked for, with Content-Range",
                            "content": {"*/*": {"schema": _BYTES}}},
                    "416": {"description": "The range starts past the end of the file (Content-Range: bytes */size)",
                            "content": _ERROR_CONTENT},
                    **errors(404),
                },
            }
        },
        "/conversations/{conversation_id}/media": {
            "post": {
                "summary": "Send a file to the customer over WhatsApp (caller must hold the conversation, inside the "
                           "24-hour window). WhatsApp takes: " + "; ".join(
                               f"{kind} {', '.join(types)} up to {limit} bytes" for kind, (types, limit) in MEDIA_LIMITS.items()),
                "parameters": [conversation_id],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {
                        "file": {**_BYTES, "description": "the file; its part's Content-Type and name say what it is"},
                        "caption": {"type": "string", "maxLength": CAPTION_MAX,
                                    "description": "shown under an image, video or document"},
                    }}}}},
                "responses": {
                    "202": json_content({"type": "object", "required": ["id"], "properties": {
                        "id": {"type": "string"}, "message": ref("Message")}}, "Queued"),
                    "415": {"description": "WhatsApp does not accept files of this type", "content": _ERROR_CONTENT},
                    **errors(400, 404, 409, 413, 502),
                },
            }
        },
    }
