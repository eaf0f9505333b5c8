"""Attendant API for the MAUI app (and the web console): `/webhooks/attendant/...`.

Register in `credentials.yml` as `channels.attendant.AttendantInput:`. Every call but
`/openapi.json` needs `Authorization: Bearer <JWT>` (HS256, `ATTENDANT_JWT_SECRET`).
Errors are `{"error": code, "message": text}`; no traceback ever reaches the caller.

`channel.py` holds the Rasa input channel (authentication, error answers, background loops);
each other module adds the routes of one area: `conversations`, `appointments`, `stream`,
`devices`, `customers`.
"""

from channels.attendant.channel import AttendantInput

__all__ = ["AttendantInput"]
