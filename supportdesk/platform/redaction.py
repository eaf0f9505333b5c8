"""Keep phone numbers and secrets out of logs and notifications."""

from __future__ import annotations

import json
import re
from typing import Optional

_DIGITS = re.compile(r"\d")


def mask_phone(phone: Optional[str]) -> str:
    """Show only the last four digits of a phone number or WhatsApp id: `•••••••1181`."""
    if not phone:
        return ""
    digits = _DIGITS.findall(phone)
    if len(digits) <= 4:
        return "•" * len(digits)
    return "•" * (len(digits) - 4) + "".join(digits[-4:])


_LONG_DIGIT_RUN = re.compile(r"\+?\d[\d \-]{6,}\d")


def mask_phones_in_text(text: str) -> str:
    """Replace every phone-like run of digits in free text by its masked form."""
    return _LONG_DIGIT_RUN.sub(lambda match: mask_phone(match.group(0)), text)



_DIGIT_RUN = re.compile(r"(?<!\d)\d{8,}(?!\d)")
# A peer's answer quoted by Rasa's `ClientResponseError` ("500, Internal Server Error, body='...'"):
# rasa-sdk's error answers used to echo the whole request (tracker, number, the customer's words).
_QUOTED_BODY = re.compile(r"body='")
_JSON = json.JSONDecoder()


def mask_digit_runs(text: str) -> str:
    """Mask every run of 8 or more digits (a wa_id in a URL, a number in a message) to its last four."""
    return _DIGIT_RUN.sub(lambda match: mask_phone(match.group(0)), text)


def drop_quoted_bodies(text: str) -> str:
    """Replace each `body='<JSON>'` a peer's error quotes by `body=[redacted]` (to the line's end if not JSON)."""
    kept, position = [], 0
    while (match := _QUOTED_BODY.search(text, position)) is not None:
        try:
            _, end = _JSON.raw_decode(text, match.end())
            end += text.startswith("'", end)
        except (ValueError, RecursionError):
            newline = text.find("\n", match.end())
            end = len(text) if newline == -1 else newline
        kept.append(text[position : match.start()] + "body=[redacted]")
        position = end
    kept.append(text[position:])
    return "".join(kept)


def redact_log_text(text: str) -> str:
    """A log line fit to keep: digit runs masked, a peer's quoted answer body dropped."""
    return drop_quoted_bodies(mask_digit_runs(text))
