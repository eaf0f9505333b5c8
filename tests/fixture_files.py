"""Read the WhatsApp fixture files byte for byte, with the signatures computed over those bytes."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List

WHATSAPP_FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
APP_SECRET = "test_app_secret_do_not_use"
VERIFY_TOKEN = "test_verify_token_do_not_use"
PHONE_NUMBER_ID = "106540352242922"


def fixture_bytes(name: str) -> bytes:
    """The exact bytes of a fixture file (never re-serialised)."""
    return (WHATSAPP_FIXTURES / name).read_bytes()


@functools.lru_cache(maxsize=1)
def _signatures() -> Dict[str, str]:
    lines = (WHATSAPP_FIXTURES / "signatures.txt").read_text(encoding="utf-8").splitlines()
    pairs = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    return {name: header for name, header in pairs}


def fixture_signature(name: str) -> str:
    """The `X-Hub-Signature-256` header Meta would send with that fixture."""
    return _signatures()[name]


def webhook_fixture_names(prefix: str = "inbound_") -> List[str]:
    """Every signed webhook fixture whose name starts with `prefix`."""
    return sorted(name for name in _signatures() if name.startswith(prefix))
