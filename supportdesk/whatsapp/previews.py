"""The one-line previews attendants see of a customer's message (conversation list, pushes).

The words are domain responses (`utter_preview_*` in `domain.yml`), so the team's language is a
YAML change like every other text; only the message's own data (captions, names, emoji) and
punctuation are put together here.
"""

from __future__ import annotations

from typing import Any, Optional

from supportdesk.platform.responses import get_responses
from supportdesk.whatsapp.payload import InboundMessage, MessageKind

_MEDIA = {
    MessageKind.IMAGE: "utter_preview_image",
    MessageKind.VIDEO: "utter_preview_video",
    MessageKind.DOCUMENT: "utter_preview_document",
    MessageKind.STICKER: "utter_preview_sticker",
    MessageKind.AUDIO: "utter_preview_audio",
}
_SYSTEM_CHANGES = {"user_changed_number": "utter_preview_changed_number", "user_changed_user_id": "utter_preview_changed_id"}


def _say(response: str, **values: Any) -> str:
    return get_responses().text(response, **values)


def _labelled(label: str, detail: Optional[str]) -> str:
    return f"{label}: {detail}" if detail else label


def preview_text(message: InboundMessage) -> str:
    """What the message is, in the team's words (`📷 Photo: caption`), before shortening."""
    from supportdesk.whatsapp.payload import MessageKind

    kind, media = message.kind, message.media
    if kind is MessageKind.TEXT:
        return message.text or ""
    if media is not None:
        label = _say("utter_preview_voice" if media.voice else _MEDIA[kind])
        return _labelled(label, media.caption or (media.filename if kind is MessageKind.DOCUMENT else None))
    if message.location is not None:
        return _labelled(_say("utter_preview_location"), message.location.name or message.location.address)
    if message.reaction is not None:
        if message.reaction.removed:
            return _say("utter_preview_reaction_removed")
        return _say("utter_preview_reaction", emoji=message.reaction.emoji)
    if message.reply is not None:
        return f"🔘 {message.reply.title or message.reply.id}"
    if kind is MessageKind.CONTACTS:
        return _contacts(message)
    if kind is MessageKind.ORDER:
        count = len((message.order or {}).get("product_items") or []) if isinstance(message.order, dict) else 0
        return _say("utter_preview_order_one" if count == 1 else "utter_preview_order", count=count)
    if kind is MessageKind.SYSTEM:
        change = message.system.type if message.system else None
        return _say(_SYSTEM_CHANGES.get(change, "utter_preview_changed_account"))
    if kind is MessageKind.REQUEST_WELCOME:
        return _say("utter_preview_opened_chat")
    if kind is MessageKind.UNSUPPORTED:
        if message.unsupported_type:
            return _say("utter_preview_unsupported_kind", kind=message.unsupported_type)
        return _say("utter_preview_unsupported")
    return _say("utter_preview_button_reply")


def _contacts(message: InboundMessage) -> str:
    names = []
    for card in message.contacts:
        name = card.get("name") if isinstance(card, dict) else None
        names.append(name.get("formatted_name") if isinstance(name, dict) else None)
    if len(names) == 1 and isinstance(names[0], str) and names[0]:
        return _say("utter_preview_contact", name=names[0])
    return _say("utter_preview_contacts", count=len(names))
