"""The values of a webhook item we can use: ids, timestamps and error codes as Meta sends them and we store them.

One item with an impossible value must never sink the delivery it came in (the database refuses an
integer of 2^63 or more and an index entry of some 2.7 kB, `datetime` a year past 9999), so each
value is checked on its own and the parser decides per item: a message keeps its turn with the time
of receipt, a message or status without a usable id is skipped, an error code becomes unknown.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional, Tuple

# 2009-01-01 UTC: WhatsApp did not exist before, so an older time is a broken clock or junk.
EARLIEST_TIMESTAMP = 1_230_768_000
# Meta's clock may run a little ahead of ours, never by a day; a time further ahead would keep the
# 24-hour window open and sort the message after everything the customer writes next.
FUTURE_TOLERANCE_SECONDS = 86_400
# Error codes are stored in INTEGER columns (32 bits on PostgreSQL); Meta's have at most 7 digits.
MAX_ERROR_CODE = 2**31 - 1
# Ids (wamids, wa_ids, BSUIDs, statuses) are a few dozen characters; the conversation id is Rasa's
# sender id, a VARCHAR(255) in its SQL tracker store, and every id is part of a unique index.
MAX_ID_CHARS = 255
_WHOLE = re.compile(r"-?[0-9]{1,30}")  # Meta sends both as decimal strings or JSON integers


def whole_number(value: Any) -> Optional[int]:
    """An integer given as a JSON integer, an integral float or a decimal string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def checked_timestamp(value: Any, now: float) -> Tuple[Optional[int], Optional[str]]:
    """(Unix seconds, None) when `value` is a plausible send time at `now`, else (None, what is wrong)."""
    if value is None:
        return None, "missing"
    number = whole_number(value)
    if number is None:
        return None, "not_a_whole_number"
    if not EARLIEST_TIMESTAMP <= number <= now + FUTURE_TOLERANCE_SECONDS:
        return None, "out_of_range"
    return number, None


def checked_error_code(value: Any) -> Tuple[Optional[int], Optional[str]]:
    """(code, None) for a storable error code, (None, None) when absent, else (None, what is wrong)."""
    if value is None:
        return None, None
    number = whole_number(value)
    if number is None:
        return None, "not_a_whole_number"
    if not 0 <= number <= MAX_ERROR_CODE:
        return None, "out_of_range"
    return number, None


def usable_id(text: Optional[str]) -> bool:
    """True for an id we can key rows by: present and at most MAX_ID_CHARS long."""
    return bool(text) and len(text) <= MAX_ID_CHARS
