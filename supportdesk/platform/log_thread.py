"""One thread writes every log line of a long-running process; callers only queue their records.

A webhook's handler spent a third of its time on its log line (redaction, JSON, the write):
`write_logs_on_one_thread` moves that to a writer thread for *every* handler of the process (the
root's, Rasa's, Sanic's, ours and logging's last resort), so lines keep their order and never
interleave on a shared stderr, as they did when only our loggers had a thread (README Performance).
The web process and the dialogue workers turn it on; tests and `rasa run` write where they log.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from typing import List, Optional, Tuple

_Queued = Optional[Tuple[logging.Handler, logging.LogRecord]]


class _LogThread:
    """The queue and the thread that hands each record to its real handler, in order."""

    def __init__(self) -> None:
        self.records: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._write, name="log-writer", daemon=True)
        self.thread.start()

    def _write(self) -> None:
        while (item := self.records.get()) is not None:
            handler, record = item
            try:
                handler.handle(record)  # the handler's filters (redaction), lock, format and write
            except Exception:
                handler.handleError(record)

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        self.records.put(None)
        self.thread.join(timeout=5)


class QueuedHandler(logging.Handler):
    """Stands in for `target` on a logger: its records go to the writer thread, unformatted."""

    def __init__(self, target: logging.Handler, writer: _LogThread) -> None:
        super().__init__()
        self.target = target
        self._writer = writer

    def handle(self, record: logging.LogRecord) -> bool:
        """Queue the record (its arguments merged now: they may change after the call returns)."""
        if record.levelno < self.target.level:
            return False
        if record.args:
            try:
                record.msg, record.args = record.getMessage(), ()
            except Exception:  # a malformed call: the target's filter keeps its format string
                pass
        self._writer.records.put((self.target, record))
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Not used: `handle` queues."""
        self.handle(record)


_writer: Optional[_LogThread] = None


def every_logger() -> List[logging.Logger]:
    """The root logger and every logger created so far."""
    named = [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    return [logging.getLogger(), *named]


def real_handler(handler: logging.Handler) -> logging.Handler:
    """The handler that writes: `handler` itself, or the one a `QueuedHandler` stands in for."""
    return handler.target if isinstance(handler, QueuedHandler) else handler


def logs_written_on_one_thread() -> bool:
    """Whether this process writes its logs on the writer thread."""
    return _writer is not None


def write_logs_on_one_thread() -> None:
    """Start the writer thread (once) and route every handler configured now to it; call again after setups."""
    global _writer
    if _writer is None:
        _writer = _LogThread()
        atexit.register(stop_log_thread)
    for logger in every_logger():
        logger.handlers = [_routed(handler, _writer) for handler in logger.handlers]
    if logging.lastResort is not None:
        logging.lastResort = _routed(logging.lastResort, _writer)


def _routed(handler: logging.Handler, writer: _LogThread) -> logging.Handler:
    return handler if isinstance(handler, QueuedHandler) else QueuedHandler(handler, writer)


def stop_log_thread() -> None:
    """Write every queued line and put each real handler back (at exit, and in tests)."""
    global _writer
    if _writer is None:
        return
    for logger in every_logger():
        logger.handlers = [real_handler(handler) for handler in logger.handlers]
    if logging.lastResort is not None:
        logging.lastResort = real_handler(logging.lastResort)
    writer, _writer = _writer, None
    writer.stop()
