"""WhatsApp Cloud API webhook bodies, parsed once by `parse_webhook` into frozen dataclasses."""

from __future__ import annotations

import copy
import enum
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from supportdesk.whatsapp.webhook_json import MalformedPayload, decode_body
from supportdesk.whatsapp.webhook_values import checked_error_code, checked_timestamp, usable_id

logger = logging.getLogger(__name__)

PREVIEW_MAX_CHARS = 80  # one line in the attendants' conversation list
SHARE_MEDIA = "/share_media"  # Rasa payloads for turns that carry no readable text
SHARE_LOCATION = "/share_location"
PLACE_ORDER = "/place_order"
# Delivery states of an outbound message in the order they happen; a status never moves one back.
DELIVERY_ORDER = ("sent", "delivered", "read")
_SAME_PLACE_AS = {"played": "read"}  # a voice message played has been read


class MessageKind(str, enum.Enum):
    """What an inbound message is; values equal Meta's `type` names."""

    TEXT = "text"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    ORDER = "order"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"
    REQUEST_WELCOME = "request_welcome"


_KIND_OF_TYPE = {kind.value: kind for kind in MessageKind}
_KIND_OF_TYPE["unknown"] = MessageKind.UNSUPPORTED  # older payloads' name for unsupported content
_MEDIA_KINDS = (MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO, MessageKind.DOCUMENT, MessageKind.STICKER)
_CAPTIONED_KINDS = (MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.DOCUMENT)
_NO_TURN_KINDS = (MessageKind.REACTION, MessageKind.SYSTEM, MessageKind.REQUEST_WELCOME)


@dataclass(frozen=True)
class WebhookError:
    """An error item (`messages[].errors`, `statuses[].errors`, `value.errors`); decide on `code`."""

    code: Optional[int]
    title: Optional[str] = None
    message: Optional[str] = None
    details: Optional[str] = None
    href: Optional[str] = None


@dataclass(frozen=True)
class Media:
    """An image, audio, video, document or sticker; fetch it by `media_id`."""

    media_id: Optional[str]
    mime_type: Optional[str] = None
    sha256: Optional[str] = None
    caption: Optional[str] = None
    filename: Optional[str] = None
    voice: bool = False
    animated: bool = False


@dataclass(frozen=True)
class Location:
    """A shared place (live location is never delivered)."""

    latitude: Optional[float]
    longitude: Optional[float]
    name: Optional[str] = None
    address: Optional[str] = None
    url: Optional[str] = None


@dataclass(frozen=True)
class Reaction:
    """An emoji on `message_id` (our wamid); `removed` when the emoji is empty or absent."""

    message_id: Optional[str]
    emoji: Optional[str]
    removed: bool


@dataclass(frozen=True)
class Reply:
    """A tap: interactive `button_reply`/`list_reply`/`nfm_reply` or a template `button` (id = payload)."""

    type: str
    id: Optional[str]
    title: Optional[str]
    description: Optional[str] = None
    response_json: Optional[str] = None


@dataclass(frozen=True)
class SystemChange:
    """A `system` message: the customer's number (`new_wa_id`) or BSUID (`new_user_id`) changed."""

    type: Optional[str]
    body: Optional[str]
    new_wa_id: Optional[str]
    new_user_id: Optional[str]


@dataclass(frozen=True)
class Context:
    """What a message answers (`replied_to`, our wamid) or that it was forwarded."""

    replied_to: Optional[str]
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: Optional[Dict[str, Any]] = field(default=None, hash=False)


@dataclass(frozen=True)
class InboundMessage:
    """One customer message; `customer_id` (wa_id, else BSUID) is the conversation id."""

    wamid: str
    phone_number_id: Optional[str]
    customer_id: str
    wa_id: Optional[str]
    bsuid: Optional[str]
    profile_name: Optional[str]
    timestamp: int
    type: str
    kind: MessageKind
    text: Optional[str] = None
    media: Optional[Media] = None
    location: Optional[Location] = None
    reaction: Optional[Reaction] = None
    reply: Optional[Reply] = None
    contacts: Tuple[Dict[str, Any], ...] = field(default=(), hash=False)
    order: Optional[Dict[str, Any]] = field(default=None, hash=False)
    system: Optional[SystemChange] = None
    context: Optional[Context] = None
    referral: Optional[Dict[str, Any]] = field(default=None, hash=False)
    errors: Tuple[WebhookError, ...] = ()
    unsupported_type: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def user_text(self) -> Optional[str]:
        """The user message Rasa receives, or None when this message is no dialogue turn."""
        if self.kind in _NO_TURN_KINDS:
            return None
        if self.kind is MessageKind.TEXT:
            return _typed_by_customer(self.text)
        if self.kind in (MessageKind.INTERACTIVE, MessageKind.BUTTON):
            return _reply_text(self.reply)
        if self.kind in _CAPTIONED_KINDS and self.media and self.media.caption and self.media.caption.strip():
            return _typed_by_customer(self.media.caption)
        if self.kind is MessageKind.LOCATION:
            return SHARE_LOCATION
        if self.kind is MessageKind.ORDER:
            return PLACE_ORDER
        return SHARE_MEDIA

    @property
    def needs_reply(self) -> bool:
        """True when the message starts a dialogue turn."""
        return self.user_text is not None

    @property
    def preview(self) -> str:
        """One short line for attendants' lists (`📷 Photo: caption`), at most 80 characters."""
        from supportdesk.whatsapp.previews import preview_text  # its wording comes from the domain

        text = " ".join(preview_text(self).split())
        return text if len(text) <= PREVIEW_MAX_CHARS else text[: PREVIEW_MAX_CHARS - 1] + "…"

    def metadata(self) -> Dict[str, Any]:
        """JSON-serialisable facts for Rasa's `UserMessage.metadata`."""
        location = asdict(self.location) if self.location else None
        if location:
            del location["url"]
        return {
            "profile_name": self.profile_name,
            "message_type": self.type,
            "timestamp": self.timestamp,
            "wa_id": self.wa_id,
            "bsuid": self.bsuid,
            "reply_to": self.context.replied_to if self.context else None,
            "forwarded": bool(self.context and (self.context.forwarded or self.context.frequently_forwarded)),
            "location": location,
            "media": asdict(self.media) if self.media else None,
            "reply": asdict(self.reply) if self.reply else None,
            "referral": copy.deepcopy(self.referral),
            "order": copy.deepcopy(self.order),
        }


@dataclass(frozen=True)
class StatusUpdate:
    """Delivery state of one of our outbound messages (by `wamid`)."""

    wamid: str
    status: str
    timestamp: int
    recipient_id: Optional[str] = None
    recipient_user_id: Optional[str] = None
    errors: Tuple[WebhookError, ...] = ()
    callback_data: Optional[str] = None
    pricing: Optional[Dict[str, Any]] = field(default=None, hash=False)
    conversation: Optional[Dict[str, Any]] = field(default=None, hash=False)
    phone_number_id: Optional[str] = None


@dataclass(frozen=True)
class WebhookDelivery:
    """Everything one webhook POST carried, in arrival order."""

    messages: Tuple[InboundMessage, ...]
    statuses: Tuple[StatusUpdate, ...]
    errors: Tuple[WebhookError, ...]
    ignored_fields: Tuple[str, ...]


def delivery_state(status: str) -> Optional[str]:
    """The place of a status in DELIVERY_ORDER (`played` is `read`); None for `failed` and unknown ones."""
    state = _SAME_PLACE_AS.get(status, status)
    return state if state in DELIVERY_ORDER else None


def status_rank(status: str) -> int:
    """Order of delivery states for monotonic updates: sent 1 < delivered 2 < read = played 3; else 0."""
    state = delivery_state(status)
    return DELIVERY_ORDER.index(state) + 1 if state else 0


def states_before(status: str) -> Tuple[str, ...]:
    """The delivery states that `status` moves a message forward from (none for `failed` or unknown)."""
    state = delivery_state(status)
    return DELIVERY_ORDER[: DELIVERY_ORDER.index(state)] if state else ()


def parse_webhook(body: bytes, received_at: Optional[float] = None) -> WebhookDelivery:
    """Parse a raw webhook body; MalformedPayload when it is not a JSON object with an `entry` list.

    Items are checked one by one against `received_at` (default: now): a message with an impossible
    timestamp takes that time, an unusable status is skipped, an impossible error code becomes None.
    """
    now = time.time() if received_at is None else received_at
    document = decode_body(body)
    if not isinstance(document, dict):
        raise MalformedPayload("body is not a JSON object")
    entries = document.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload("body has no entry list")
    messages: List[InboundMessage] = []
    statuses: List[StatusUpdate] = []
    errors: List[WebhookError] = []
    ignored: List[str] = []
    for entry in entries:
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            if change.get("field") != "messages":
                ignored.append(_text(change.get("field")) or "")
                continue
            value = _dict(change.get("value"))
            phone_number_id = _text(_dict(value.get("metadata")).get("phone_number_id"))
            contacts = [contact for contact in _list(value.get("contacts")) if isinstance(contact, dict)]
            messages.extend(_parse_messages(value.get("messages"), phone_number_id, contacts, now))
            statuses.extend(_parse_statuses(value.get("statuses"), phone_number_id, now))
            errors.extend(_parse_errors(value.get("errors")))
    return WebhookDelivery(tuple(messages), tuple(statuses), tuple(errors), tuple(ignored))


def _parse_messages(
    items: Any, phone_number_id: Optional[str], contacts: List[dict], now: float
) -> List[InboundMessage]:
    parsed = []
    for item in map(_dict, _list(items)):
        phone, bsuid = _text(item.get("from")), _text(item.get("from_user_id"))
        contact = next(
            (c for c in contacts if (phone and c.get("wa_id") == phone) or (bsuid and c.get("user_id") == bsuid)), {}
        )
        wa_id, bsuid = phone or _text(contact.get("wa_id")), bsuid or _text(contact.get("user_id"))
        wamid, customer_id = _text(item.get("id")), wa_id or bsuid
        problem = _id_problem("id", wamid) or _id_problem("sender", customer_id)
        if problem:
            logger.warning("whatsapp.payload.message_skipped", extra={"reason": problem})
            continue
        profile_name = _text(_dict(contact.get("profile")).get("name"))
        item, timestamp = _with_usable_timestamp(item, wamid, now)
        parsed.append(_parse_content(item, (wamid, phone_number_id, customer_id, wa_id, bsuid, profile_name), timestamp))
    return parsed


def _with_usable_timestamp(item: Dict[str, Any], wamid: str, now: float) -> Tuple[Dict[str, Any], int]:
    """The item and its send time; an impossible time becomes the time of receipt, also in the item kept."""
    timestamp, problem = checked_timestamp(item.get("timestamp"), now)
    if timestamp is not None:
        return item, timestamp
    logger.warning("whatsapp.payload.timestamp_replaced", extra={"wamid": wamid, "problem": problem})
    return {**item, "timestamp": str(int(now))}, int(now)


def _parse_content(item: Dict[str, Any], sender: Tuple[Any, ...], timestamp: int) -> InboundMessage:
    raw_type = _text(item.get("type")) or ""
    kind = _KIND_OF_TYPE.get(raw_type)
    if kind is None:
        logger.warning("whatsapp.payload.unknown_type", extra={"wamid": sender[0], "type": raw_type[:40]})
        kind = MessageKind.UNSUPPORTED
    content, context = _dict(item.get(raw_type)), _dict(item.get("context"))
    return InboundMessage(
        *sender,
        timestamp=timestamp,
        type=raw_type,
        kind=kind,
        text=_text(content.get("body")) if kind is MessageKind.TEXT else None,
        media=_media(content) if kind in _MEDIA_KINDS else None,
        location=_location(content) if kind is MessageKind.LOCATION else None,
        reaction=_reaction(content) if kind is MessageKind.REACTION else None,
        reply=_reply(kind, content),
        contacts=tuple(filter(None, map(_dict, _list(item.get("contacts"))))) if raw_type == "contacts" else (),
        order=(content or None) if kind is MessageKind.ORDER else None,
        system=_system(content) if kind is MessageKind.SYSTEM else None,
        context=_context(context) if context else None,
        referral=_dict(item.get("referral")) or None,
        errors=_parse_errors(item.get("errors")),
        unsupported_type=_unsupported_type(raw_type, content) if kind is MessageKind.UNSUPPORTED else None,
        raw=item,
    )


def _media(content: Dict[str, Any]) -> Media:
    fields = _texts(content, "id", "mime_type", "sha256", "caption", "filename")
    return Media(*fields, voice=content.get("voice") is True, animated=content.get("animated") is True)


def _location(content: Dict[str, Any]) -> Location:
    coordinates = _float(content.get("latitude")), _float(content.get("longitude"))
    return Location(*coordinates, *_texts(content, "name", "address", "url"))


def _reaction(content: Dict[str, Any]) -> Reaction:
    emoji = _text(content.get("emoji"))
    return Reaction(message_id=_text(content.get("message_id")), emoji=emoji, removed=emoji is None)


def _reply(kind: MessageKind, content: Dict[str, Any]) -> Optional[Reply]:
    if kind is MessageKind.BUTTON:
        reply = Reply("button", *_texts(content, "payload", "text"))
    elif kind is MessageKind.INTERACTIVE:
        reply_type = _text(content.get("type")) or ""
        tap = _dict(content.get(reply_type))
        if reply_type == "nfm_reply":
            reply = Reply(reply_type, *_texts(tap, "name", "body"), None, _text(tap.get("response_json")))
        else:
            reply = Reply(reply_type, *_texts(tap, "id", "title", "description"))
    else:
        return None
    return reply if reply.id or reply.title else None


def _system(content: Dict[str, Any]) -> SystemChange:
    new_wa_id = _text(content.get("wa_id")) or _text(content.get("new_wa_id"))  # older payloads: `new_wa_id`
    return SystemChange(*_texts(content, "type", "body"), new_wa_id, _text(content.get("user_id")))


def _context(context: Dict[str, Any]) -> Context:
    flags = context.get("forwarded") is True, context.get("frequently_forwarded") is True
    return Context(_text(context.get("id")), *flags, _dict(context.get("referred_product")) or None)


def _unsupported_type(raw_type: str, content: Dict[str, Any]) -> Optional[str]:
    return _text(content.get("type")) if raw_type in ("unsupported", "unknown") else raw_type or None


def _id_problem(what: str, text: Optional[str]) -> Optional[str]:
    """`no_<what>` or `<what>_too_long` when `text` cannot key a row, else None."""
    if usable_id(text):
        return None
    return f"{what}_too_long" if text else f"no_{what}"


def _parse_statuses(items: Any, phone_number_id: Optional[str], now: float) -> List[StatusUpdate]:
    parsed = []
    for item in map(_dict, _list(items)):
        wamid, status = _text(item.get("id")), _text(item.get("status"))
        problem = _id_problem("id", wamid) or _id_problem("status", status)
        if problem:
            logger.warning("whatsapp.payload.status_skipped", extra={"reason": problem})
            continue
        timestamp, problem = checked_timestamp(item.get("timestamp"), now)
        if timestamp is None:
            extra = {"wamid": wamid, "reason": "timestamp_unusable", "problem": problem}
            logger.warning("whatsapp.payload.status_skipped", extra=extra)
            continue
        if delivery_state(status) is None and status != "failed":
            logger.warning("whatsapp.payload.unknown_status", extra={"wamid": wamid, "status": status[:40]})
        recipient = _texts(item, "recipient_id", "recipient_user_id")
        errors, callback_data = _parse_errors(item.get("errors")), _text(item.get("biz_opaque_callback_data"))
        reports = _dict(item.get("pricing")) or None, _dict(item.get("conversation")) or None
        update = StatusUpdate(wamid, status, timestamp, *recipient, errors, callback_data, *reports, phone_number_id)
        parsed.append(update)
    return parsed


def _parse_errors(items: Any) -> Tuple[WebhookError, ...]:
    parsed = []
    for item in _list(items):
        if not isinstance(item, dict):
            logger.warning("whatsapp.payload.error_skipped", extra={"reason": "not an object"})
            continue
        code, problem = checked_error_code(item.get("code"))
        if problem:
            logger.warning("whatsapp.payload.error_code_unusable", extra={"problem": problem})
        details = _text(_dict(item.get("error_data")).get("details"))
        parsed.append(WebhookError(code, *_texts(item, "title", "message"), details, _text(item.get("href"))))
    return tuple(parsed)


def _typed_by_customer(text: Optional[str]) -> Optional[str]:
    """Customer text never reaches Rasa as a `/intent` payload: leading slashes are dropped."""
    if text is None or not text.lstrip().startswith("/"):
        return text
    return text.lstrip().lstrip("/").strip() or None


def _reply_text(reply: Optional[Reply]) -> str:
    if reply is None:
        return SHARE_MEDIA
    if reply.id and reply.id.startswith("/"):
        return reply.id
    return _typed_by_customer(reply.title) or _typed_by_customer(reply.id) or SHARE_MEDIA


def _text(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value or None
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _texts(source: Dict[str, Any], *keys: str) -> List[Optional[str]]:
    return [_text(source.get(key)) for key in keys]


def _float(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []
