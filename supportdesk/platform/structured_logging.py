"""One JSON object per log line; events are dotted names, fields are data.

Every log line this process writes, ours or Sanic's, Rasa's and rasa-sdk's, passes the
`RedactingFilter`: digit runs of 8 or more (customers' numbers are conversation ids, so they sit
in URLs and messages) keep only their last four digits, and a peer's quoted answer body is dropped.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from supportdesk.platform.redaction import mask_phones_in_text, redact_log_text

_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRET_KEYS = ("token", "secret", "authorization", "signature", "password", "api_key")
# Sanic's own loggers: Sanic re-creates their handlers when an app is built, so they also get the
# filter on the logger itself, where it survives that (it sees only records logged there).
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")


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
            entry["exception"] = mask_phones_in_text(redact_log_text(self.formatException(record.exc_info)))
        return json.dumps(entry, ensure_ascii=False)


class RedactingFilter(logging.Filter):
    """Rewrites a record in place: message, string fields, traceback and stack pass `redact_log_text`."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact, never drop."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep its format string, not its arguments
            message = str(record.msg)
        record.msg, record.args = redact_log_text(message), ()
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, redact_log_text(value))
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_log_text(self._formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log_text(record.stack_info)
        return True


REDACTING_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Put the filter on every handler configured now and on Sanic's loggers (idempotent; call again after setups)."""
    loggers = [logging.getLogger()]
    loggers += [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            handler.addFilter(REDACTING_FILTER)
    for name in SANIC_LOGGERS:
        logging.getLogger(name).addFilter(REDACTING_FILTER)


def configure_logging(level: str = "INFO", log_format: str = "json") -> None:
    """Install the JSON formatter on the `supportdesk`, `channels` and `actions` loggers, and the redaction everywhere."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    for name in ("supportdesk", "channels", "actions"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    install_log_redaction()
