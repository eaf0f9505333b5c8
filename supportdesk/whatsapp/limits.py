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
