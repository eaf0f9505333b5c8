"""The project's one error body for HTTP answers: `{"error": code, "message": text}` (CONTRACT)."""

from __future__ import annotations

from typing import Mapping, Optional

from sanic import response
from sanic.response import HTTPResponse


def error_response(
    status: int, code: str, message: str, headers: Optional[Mapping[str, str]] = None
) -> HTTPResponse:
    """A JSON error answer: a machine-readable `code` and a sentence for people, with optional headers."""
    return response.json({"error": code, "message": message}, status=status, headers=dict(headers or {}))
