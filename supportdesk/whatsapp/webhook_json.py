"""A webhook body's JSON, decoded into values every later step accepts, or refused as malformed.

Whatever a signed body holds must not fail later, in the database or in a dialogue turn: strings are
valid UTF-8 without NULs (PostgreSQL's text refuses U+0000), and nesting is bounded (deep copies and
re-serialisation recurse). Meta escapes non-ASCII as `\\uXXXX`, so both can only arrive as escapes.
"""

from __future__ import annotations

import json
import re
from typing import Any, List, Tuple

# Meta's deepest bodies (a flow reply in a message in a change in an entry) nest about ten levels.
MAX_DEPTH = 64
_NEEDS_CLEANING = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")  # a surrogate half or NUL, as an escape
_REPLACEMENT = "\ufffd"


class MalformedPayload(ValueError):
    """The body is not a webhook envelope; the message never quotes the body."""


def decode_body(body: bytes) -> Any:
    """The JSON document of `body` with clean strings; MalformedPayload when it is not (usable) JSON."""
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise MalformedPayload("body is not UTF-8") from None
    except (ValueError, RecursionError):
        raise MalformedPayload("body is not valid JSON") from None
    if _may_nest_deeper_than(body, MAX_DEPTH) and _deeper_than(document, MAX_DEPTH):
        raise MalformedPayload("body is nested too deeply")
    return _clean(document) if _NEEDS_CLEANING.search(body) else document


def _reject_constant(name: str) -> None:
    raise ValueError("NaN and Infinity are not JSON")


def _may_nest_deeper_than(body: bytes, limit: int) -> bool:
    """False when `body` has too few brackets to nest past `limit` (a real webhook has a dozen or two)."""
    return body.count(b"{") + body.count(b"[") > limit


def _deeper_than(document: Any, limit: int) -> bool:
    """True when lists and objects nest more than `limit` levels (checked without recursion)."""
    pending: List[Tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return False


def _clean(value: Any) -> Any:
    """Unpaired surrogate halves and NULs become U+FFFD, in keys and values alike."""
    if isinstance(value, str):
        text = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return text.replace("\x00", _REPLACEMENT)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    return value
