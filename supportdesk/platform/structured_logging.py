"""One JSON object per log line; events are dotted names, fields are data.

Every log line this process writes, ours or Sanic's, Rasa's and rasa-sdk's, passes the
`RedactingFilter`: digit runs of 8 or more (customers' numbers are conversation ids, so they sit
in URLs and messages) keep only their last four digits, and a peer's quoted answer body is dropped.
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
from typing import Any

from supportdesk.platform.log_thread import every_logger, logs_written_on_one_thread, real_handler, write_logs_on_one_thread
from supportdesk.platform.redaction import mask_phones_in_text, redact_log_text

_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRET_KEYS = ("token", "secret", "authorization", "signature", "password", "api_key")
# Sanic's own loggers: Sanic re-creates their handlers when an app is built, so they also get the
# filter on the logger itself, where it survives that (it sees only records logged there).
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")


@functools.lru_cache(maxsize=1024)
def _names_a_secret(key: str) -> bool:
    """Whether a field's name says it holds a secret (field names repeat: the answer is kept)."""
    return any(part in key.lower() for part in _SECRET_KEYS)


def _safe(key: str, value: Any) -> Any:
    """Numbers pass (token counts are not tokens); secret-named strings never do; phones are masked."""
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if _names_a_secret(key):
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
    """Put the filter on every handler configured now (logging's last resort too) and on Sanic's loggers.

    Idempotent; call again after setups. Where a writer thread writes the logs, new handlers join it.
    """
    handlers = [handler for logger in every_logger() for handler in logger.handlers]
    for handler in [*handlers, *([logging.lastResort] if logging.lastResort else [])]:
        real_handler(handler).addFilter(REDACTING_FILTER)
    for name in SANIC_LOGGERS:
        logging.getLogger(name).addFilter(REDACTING_FILTER)
    if logs_written_on_one_thread():
        write_logs_on_one_thread()


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


def configure_process_logging(level: str = "INFO", log_format: str = "json") -> None:
    """Logging of our own long-running processes (web, dialogue worker), which Rasa's CLI does not set up.

    Every line is one JSON object (the root's handler is ours), Rasa's loggers and structlog events are
    filtered at `level` as `rasa run` filters them, warnings become log records, and one thread writes
    them all. Without this a worker printed every structlog debug event of a turn to stdout (whole
    trackers with customers' numbers, about 4 KB a turn), interleaved with the other lines.
    """
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging(level, log_format)
    root = logging.getLogger()
    root.handlers = list(logging.getLogger("supportdesk").handlers)
    root.setLevel(level)
    configure_logging_and_warnings(logging.getLevelName(level), filter_repeated_logs=False)  # our events repeat by design
    configure_structlog(logging.getLevelName(level))  # into the root's handler (it exists, so no basicConfig)
    logging.captureWarnings(True)  # Rasa's setup adds no handler: the one `configure_logging` filtered serves all
    logging._srcfile = None  # no line prints the caller's file and line: not looked up per record (logging HOWTO, Optimization)
    write_logs_on_one_thread()
