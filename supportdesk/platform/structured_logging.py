"""One JSON object per log line; events are dotted names, fields are data."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from supportdesk.platform.redaction import mask_phones_in_text

_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRET_KEYS = ("token", "secret", "authorization", "signature", "password", "api_key")


def _safe(key: str, value: Any) -> Any:
    """Numbers pass (token counts are not tokens); secret-named strings never do; phones are masked."""
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if any(part in key.lower() for part in _SECRET_KEYS):
        return "[redacted]"
    return mask_phones_in_text(str(value))


class JsonFormatter(logging.Formatter):
    """Render a record as compact JSON; extra fields are masked for phones and secrets."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "event": mask_phones_in_text(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = _safe(key, value)
        if record.exc_info:
            entry["exception"] = mask_phones_in_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str = "json") -> None:
    """Install the JSON formatter on the `supportdesk`, `channels` and `actions` loggers."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    for name in ("supportdesk", "channels", "actions"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
