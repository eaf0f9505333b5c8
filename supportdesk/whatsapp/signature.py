"""Webhook authenticity: the GET subscription handshake and `X-Hub-Signature-256` on POSTs."""

from __future__ import annotations

import enum
import hashlib
import hmac
from typing import Mapping, Optional

SIGNATURE_PREFIX = "sha256="


class SignatureCheck(enum.Enum):
    """Outcome of checking a POST's signature header."""

    VALID = "valid"
    MISSING = "missing"  # no header, or no app secret configured: 401
    MISMATCH = "mismatch"  # header present but wrong: 403


def check_signature(body: bytes, header: Optional[str], app_secret: Optional[str]) -> SignatureCheck:
    """HMAC-SHA256 of the raw body with the app secret, compared in constant time."""
    if not app_secret or not header:
        return SignatureCheck.MISSING
    expected = SIGNATURE_PREFIX + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    presented = header.strip()
    if presented[: len(SIGNATURE_PREFIX)].lower() == SIGNATURE_PREFIX:
        presented = SIGNATURE_PREFIX + presented[len(SIGNATURE_PREFIX) :].lower()
    if hmac.compare_digest(expected.encode("ascii"), presented.encode("utf-8", "replace")):
        return SignatureCheck.VALID
    return SignatureCheck.MISMATCH


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `body` (used by the simulator, tests and benches)."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def subscription_challenge(query: Mapping[str, str], verify_token: Optional[str]) -> Optional[str]:
    """The challenge to echo when the GET is a valid subscription for our token, else None."""
    mode = query.get("hub.mode")
    token = query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    if not verify_token or mode != "subscribe" or token is None or challenge is None:
        return None
    if not hmac.compare_digest(verify_token.encode("utf-8"), token.encode("utf-8")):
        return None
    return challenge
