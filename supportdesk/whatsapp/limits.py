"""WhatsApp Cloud API limits, in characters unless named otherwise: the one source for every module.

From `docs/whatsapp_contract.md` section 6 (outbound messages). Rendering shapes messages to fit,
the Graph client refuses what breaks them, and the attendant API, its OpenAPI document, the AI
answers and the simulator bound their texts by them.
"""

from __future__ import annotations

TEXT_MAX = 4096  # one text message, either way; longer replies are split into several

INTERACTIVE_BODY_MAX = 1024  # body of reply buttons and lists
CAPTION_MAX = 1024  # image, video and document captions
HEADER_FOOTER_MAX = 60  # text header and footer of an interactive message

BUTTONS_MAX = 3  # reply buttons per message (at least one)
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256

LIST_BUTTON_MAX = 20  # the label of the button that opens a list
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10  # rows in all sections together (at least one)
SECTION_TITLE_MAX = 24
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESCRIPTION_MAX = 72

CALLBACK_DATA_MAX = 512  # `biz_opaque_callback_data`, echoed in the status webhooks

# Media WhatsApp accepts, per message type: its MIME types and largest size in bytes. Meta writes "5 MB",
# "16 MB", "100 MB", "500 KB" without saying which megabyte: read as decimal (10**6), the smaller, so
# nothing we let through can be over Meta's limit. Images are JPEG/PNG only; a WebP goes as a sticker.
MEGABYTE = 1000 * 1000
MEDIA_LIMITS = {
    "image": (("image/jpeg", "image/png"), 5 * MEGABYTE),
    "audio": (("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 * MEGABYTE),
    "video": (("video/mp4", "video/3gpp"), 16 * MEGABYTE),
    "document": (
        (
            "application/pdf",
            "text/plain",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        100 * MEGABYTE,
    ),
    "sticker": (("image/webp",), 500 * 1000),
}
MEDIA_MAX = max(limit for _, limit in MEDIA_LIMITS.values())  # the largest file of any type (a document)
MEDIA_CAPTION_KINDS = ("image", "video", "document")  # audio and stickers carry no caption
