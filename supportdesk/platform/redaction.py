"""Keep phone numbers and secrets out of logs and notifications."""

from __future__ import annotations

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
