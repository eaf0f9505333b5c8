"""The WhatsApp simulator's logic: customer messages as Cloud API webhooks, replies from the outbox.

Pure functions (plus one query): the console channel validates what the simulator page
sends with `parse_customer_message`, turns it into the exact webhook body Meta would post
(`build_webhook_body`, the shape of `tests/fixtures/whatsapp/inbound_text.json`), and reads
what the business sent back from `outbox_messages` with `outbound_messages`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from supportdesk.platform.database import Database
from supportdesk.platform.settings import Settings
from supportdesk.platform.timestamps import iso_time
from supportdesk.whatsapp.limits import BUTTON_ID_MAX, TEXT_MAX

WEBHOOK_PATH = "/webhooks/whatsapp/webhook"
BUSINESS_ACCOUNT_ID = "simulator-waba"
DISPLAY_PHONE_NUMBER = "15550000000"
DEFAULT_PHONE_NUMBER_ID = "simulator-phone-number"
DEFAULT_CUSTOMER_NAME = "Simulated customer"
MAX_NAME_CHARS = 100
MAX_REPLY_TITLE_CHARS = 100
PAGE_SIZE = 200
# Rows the customer's phone has received; `failed` and `suppressed` never reach it.
SHOWN_STATES = ("logged", "sent", "delivered", "read")
UNFINISHED_STATES = ("pending", "sending")
REPLY_KINDS = {"button": "button_reply", "list": "list_reply"}
_WA_ID = re.compile(r"^[1-9][0-9]{5,14}$")  # E.164 digits without "+", as WhatsApp writes wa_id


class InvalidSimulatorMessage(ValueError):
    """What the simulator page sent cannot become a webhook; `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class CustomerMessage:
    """One message typed or tapped by the simulated customer."""

    wa_id: str
    name: str
    text: Optional[str] = None
    reply_id: Optional[str] = None
    reply_title: Optional[str] = None
    reply_kind: str = "button"


def simulator_active(settings: Settings) -> bool:
    """True when the simulator may run: asked for, and replies are not really sent to WhatsApp.

    With a Graph token the outbox talks to real customers, whose messages an unauthenticated
    simulator page must never read, so the flag alone is not enough.
    """
    return settings.simulator_enabled and not settings.whatsapp_sending_enabled


def valid_wa_id(value: Any) -> bool:
    """True for a WhatsApp id: 6 to 15 digits, no leading zero."""
    return isinstance(value, str) and bool(_WA_ID.match(value))


def _bounded_string(data: Mapping[str, Any], key: str, limit: int, code: str) -> Optional[str]:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidSimulatorMessage(code, f"{key} must be a string of at most {limit} characters.")
    return value


def parse_customer_message(data: Mapping[str, Any]) -> CustomerMessage:
    """Validate `{"wa_id", "name", "text"}` or `{"wa_id", "reply": {"id", "title"}, "kind"}`."""
    wa_id = data.get("wa_id")
    if not valid_wa_id(wa_id):
        raise InvalidSimulatorMessage("invalid_wa_id", "wa_id must be 6 to 15 digits (country code first, no +).")
    name = (_bounded_string(data, "name", MAX_NAME_CHARS, "invalid_name") or "").strip() or DEFAULT_CUSTOMER_NAME
    reply = data.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            raise InvalidSimulatorMessage("invalid_reply", "reply must be an object with id and title.")
        reply_id = _bounded_string(reply, "id", BUTTON_ID_MAX, "invalid_reply")
        title = _bounded_string(reply, "title", MAX_REPLY_TITLE_CHARS, "invalid_reply")
        kind = data.get("kind", "button")
        if not reply_id or not title or kind not in REPLY_KINDS:
            raise InvalidSimulatorMessage("invalid_reply", "reply needs an id and a title; kind is button or list.")
        return CustomerMessage(wa_id, name, reply_id=reply_id, reply_title=title, reply_kind=kind)
    text = _bounded_string(data, "text", TEXT_MAX, "invalid_text")
    if text is None or not text.strip():
        raise InvalidSimulatorMessage("empty_text", "text must be a non-empty string.")
    return CustomerMessage(wa_id, name, text=text)


def new_wamid() -> str:
    """A message id shaped like Meta's, unique per simulated message."""
    return f"wamid.SIM{uuid.uuid4().hex.upper()}"


def _content(message: CustomerMessage) -> Dict[str, Any]:
    if message.text is not None:
        return {"type": "text", "text": {"body": message.text}}
    kind = REPLY_KINDS[message.reply_kind]
    return {
        "type": "interactive",
        "interactive": {"type": kind, kind: {"id": message.reply_id, "title": message.reply_title}},
    }


def build_webhook_body(
    message: CustomerMessage,
    phone_number_id: Optional[str],
    wamid: Optional[str] = None,
    timestamp: Optional[int] = None,
    content: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """The Cloud API `messages` webhook Meta would post for this customer message (`content`: a file's type and object)."""
    item = {
        "from": message.wa_id,
        "id": wamid or new_wamid(),
        "timestamp": str(int(time.time()) if timestamp is None else timestamp),
        **(content if content is not None else _content(message)),
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": phone_number_id or DEFAULT_PHONE_NUMBER_ID,
        },
        "contacts": [{"profile": {"name": message.name}, "wa_id": message.wa_id}],
        "messages": [item],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": BUSINESS_ACCOUNT_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The bytes to sign and post (UTF-8 JSON, as Meta sends it)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def visible_messages(rows: Iterable[Mapping[str, Any]], after: int) -> Tuple[List[Dict[str, Any]], int]:
    """What the customer's phone shows of outbox rows (oldest first), and the cursor to ask from next.

    The cursor never passes a row still being sent, so it is shown once it is out; rows that
    never reach the phone (`failed`, `suppressed`) are skipped.
    """
    shown: List[Dict[str, Any]] = []
    cursor = after
    for row in rows:
        if row["state"] in UNFINISHED_STATES:
            break
        cursor = int(row["id"])
        if row["state"] in SHOWN_STATES:
            message = row["message"]
            shown.append(
                {
                    "id": int(row["id"]),
                    "origin": row["origin"],
                    "state": row["state"],
                    "created_at": iso_time(row["created_at"]),
                    "message": json.loads(message) if isinstance(message, str) else message,
                }
            )
    return shown, cursor


def outbound_messages(database: Database, wa_id: str, after: int = 0) -> Tuple[List[Dict[str, Any]], int]:
    """The business's messages to `wa_id` with an outbox id above `after`, and the next cursor."""
    rows = database.execute(
        """SELECT id, origin, state, message, created_at FROM outbox_messages
           WHERE conversation_id = ? AND id > ? ORDER BY id LIMIT ?""",
        (wa_id, after, PAGE_SIZE),
    )
    return visible_messages(rows, after)
