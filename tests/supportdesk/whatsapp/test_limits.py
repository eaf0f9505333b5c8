"""WhatsApp's limits have one source, with the values of docs/whatsapp_contract.md section 6."""

from supportdesk.attendant.openapi import openapi_document
from supportdesk.console import simulator
from supportdesk.knowledge.openai_answers import shorten_reply
from supportdesk.whatsapp import limits


def test_the_limits_are_the_contracts_numbers() -> None:
    values = {name: value for name, value in vars(limits).items() if name.isupper()}
    assert values == {
        "TEXT_MAX": 4096,
        "INTERACTIVE_BODY_MAX": 1024,
        "CAPTION_MAX": 1024,
        "HEADER_FOOTER_MAX": 60,
        "BUTTONS_MAX": 3,
        "BUTTON_TITLE_MAX": 20,
        "BUTTON_ID_MAX": 256,
        "LIST_BUTTON_MAX": 20,
        "LIST_SECTIONS_MAX": 10,
        "LIST_ROWS_MAX": 10,
        "SECTION_TITLE_MAX": 24,
        "ROW_TITLE_MAX": 24,
        "ROW_ID_MAX": 200,
        "ROW_DESCRIPTION_MAX": 72,
        "CALLBACK_DATA_MAX": 512,
        "MEGABYTE": 1_000_000,
        "MEDIA_LIMITS": {
            "image": (("image/jpeg", "image/png"), 5_000_000),
            "audio": (("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16_000_000),
            "video": (("video/mp4", "video/3gpp"), 16_000_000),
            "document": (("application/pdf", "text/plain", "application/msword",
                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                          "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          "application/vnd.ms-powerpoint",
                          "application/vnd.openxmlformats-officedocument.presentationml.presentation"), 100_000_000),
            "sticker": (("image/webp",), 500_000),
        },
        "MEDIA_MAX": 100_000_000,
        "MEDIA_CAPTION_KINDS": ("image", "video", "document"),
    }


def test_the_media_upload_is_documented_with_the_caption_limit() -> None:
    upload = openapi_document()["paths"]["/conversations/{conversation_id}/media"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["caption"]["maxLength"] == limits.CAPTION_MAX
    assert "document application/pdf" in upload["summary"] and "up to 100000000 bytes" in upload["summary"]


def test_the_attendant_api_document_bounds_texts_by_the_text_limit() -> None:
    paths = openapi_document()["paths"]
    reply = paths["/conversations/{conversation_id}/messages"]["post"]["requestBody"]["content"]["application/json"]
    confirm = paths["/appointments/{appointment_id}/confirm"]["post"]["requestBody"]["content"]["application/json"]
    assert reply["schema"]["properties"]["text"]["maxLength"] == limits.TEXT_MAX
    assert confirm["schema"]["properties"]["message"]["maxLength"] == limits.TEXT_MAX


def test_ai_answers_and_the_simulator_stop_at_the_text_limit() -> None:
    longest = "a" * limits.TEXT_MAX
    assert shorten_reply(longest) == longest
    assert shorten_reply(longest + "a") == "a" * (limits.TEXT_MAX - 1) + "…"
    assert simulator.parse_customer_message({"wa_id": "16315551181", "text": longest}).text == longest
