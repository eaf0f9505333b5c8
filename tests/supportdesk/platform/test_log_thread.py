"""Every handler of a process writes on one thread: callers queue, lines keep their order and their redaction."""

from __future__ import annotations

import io
import json
import logging
import threading
from typing import Iterator, List

import pytest

from supportdesk.platform.log_thread import QueuedHandler, stop_log_thread, write_logs_on_one_thread
from supportdesk.platform.structured_logging import JsonFormatter, install_log_redaction

CUSTOMER = "16315551181"


class Recording(logging.StreamHandler):
    """Writes to memory and remembers which thread wrote each line."""

    def __init__(self, stream: io.StringIO, level: int = logging.NOTSET) -> None:
        super().__init__(stream)
        self.setLevel(level)
        self.threads: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.threads.append(threading.current_thread().name)
        super().emit(record)


@pytest.fixture
def shared_stream() -> Iterator[io.StringIO]:
    """A root handler (as Rasa's) and a JSON handler on `shop` (as ours), both writing one stream."""
    stream = io.StringIO()
    root, shop = logging.getLogger(), logging.getLogger("shop")
    rasa_like = Recording(stream, logging.WARNING)
    ours = Recording(stream)
    ours.setFormatter(JsonFormatter())
    root.addHandler(rasa_like)
    shop.handlers, shop.propagate, shop.level = [ours], False, logging.INFO
    yield stream
    stop_log_thread()
    root.removeHandler(rasa_like)
    shop.handlers, shop.propagate = [], True


def test_records_are_written_by_the_writer_thread_in_order_and_redacted(shared_stream: io.StringIO) -> None:
    write_logs_on_one_thread()
    install_log_redaction()  # as the channels do after their setup: filters go on the real handlers
    shop, root = logging.getLogger("shop"), logging.getLogger()
    assert isinstance(shop.handlers[0], QueuedHandler) and all(isinstance(h, QueuedHandler) for h in root.handlers)

    logging.getLogger("shop").info("order.placed", extra={"customer": CUSTOMER, "number": 1})
    logging.getLogger("rasa.core").warning("Starting a new session for %s", CUSTOMER)
    logging.getLogger("rasa.core").info("below the root handler's level: not written")
    logging.getLogger("shop").info("order.placed", extra={"number": 2})
    stop_log_thread()  # writes what is queued and puts the real handlers back
    (ours,) = logging.getLogger("shop").handlers

    lines = shared_stream.getvalue().splitlines()
    assert len(lines) == 3 and CUSTOMER not in shared_stream.getvalue()
    assert json.loads(lines[0])["number"] == 1 and json.loads(lines[2])["number"] == 2
    assert lines[1] == "Starting a new session for •••••••1181"
    assert isinstance(ours, Recording) and set(ours.threads) == {"log-writer"}


def test_arguments_are_read_when_logged_not_when_written(shared_stream: io.StringIO) -> None:
    write_logs_on_one_thread()
    basket = ["soap"]
    logging.getLogger("shop").warning("basket %s", basket)
    basket.append("towel")  # changed after the call, before the writer thread may have run
    stop_log_thread()
    assert json.loads(shared_stream.getvalue())["event"] == "basket ['soap']"


def test_lines_from_many_threads_are_whole_and_each_threads_order_is_kept(shared_stream: io.StringIO) -> None:
    write_logs_on_one_thread()

    def log_from(thread: int) -> None:
        for number in range(200):
            logging.getLogger("shop").info("tick", extra={"sender": thread, "number": number})
            logging.getLogger("rasa.core").warning("tock %s %s", thread, number)

    threads = [threading.Thread(target=log_from, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop_log_thread()

    lines = shared_stream.getvalue().splitlines()
    assert len(lines) == 4 * 200 * 2
    ticks = [json.loads(line) for line in lines if line.startswith("{")]
    tocks = [line.split() for line in lines if line.startswith("tock")]
    for thread in range(4):
        assert [t["number"] for t in ticks if t["sender"] == thread] == list(range(200))
        assert [int(t[2]) for t in tocks if t[1] == str(thread)] == list(range(200))


def test_logging_last_resort_is_routed_and_put_back(shared_stream: io.StringIO) -> None:
    original = logging.lastResort
    write_logs_on_one_thread()
    assert isinstance(logging.lastResort, QueuedHandler) and logging.lastResort.target is original
    write_logs_on_one_thread()  # again, after a setup: nothing wrapped twice
    assert logging.lastResort.target is original
    stop_log_thread()
    assert logging.lastResort is original


PROCESS_LOGGING = f"""
import logging, warnings, structlog
from supportdesk.platform.structured_logging import configure_process_logging
configure_process_logging("INFO", "json")
structlog.get_logger().debug("processor.actions.log", rasa_events="SlotSet(wa_id: {CUSTOMER})")
structlog.get_logger().info("processor.rules.loaded", rules=3)
logging.getLogger("rasa.core.processor").warning("Starting a new session for conversation ID '{CUSTOMER}'.")
logging.getLogger("supportdesk.turns").info("whatsapp.turn.completed", extra={{"rasa_ms": 1.5}})
logging.getLogger("supportdesk.turns").info("whatsapp.turn.completed", extra={{"rasa_ms": 2.5}})
warnings.warn("a library warns")
"""


def test_a_process_of_ours_writes_every_line_as_json_rasa_debug_events_filtered_and_numbers_masked() -> None:
    import subprocess
    import sys
    from pathlib import Path

    project = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", PROCESS_LOGGING], cwd=project, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # structlog printed there, unfiltered, before
    entries = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    events = [entry["event"] for entry in entries]
    assert not any("processor.actions.log" in event for event in events)
    assert any("processor.rules.loaded" in event for event in events)
    assert "Starting a new session for conversation ID '•••••••1181'." in events
    assert [entry["rasa_ms"] for entry in entries if entry["event"] == "whatsapp.turn.completed"] == [1.5, 2.5]
    assert any("a library warns" in event for event in events)
    assert CUSTOMER not in done.stderr
