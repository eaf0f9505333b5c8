"""Every log line, ours or Sanic's, Rasa's and rasa-sdk's, keeps numbers masked and peers' bodies out."""

from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from supportdesk.platform.redaction import mask_digit_runs
from supportdesk.platform.structured_logging import REDACTING_FILTER, JsonFormatter, install_log_redaction

CUSTOMER = "16315551181"
WORDS = "my card number is in this sentence"


class Written(logging.StreamHandler):
    """A plain text handler that also writes Sanic's access field, as Sanic's access format does."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def format(self, record: logging.LogRecord) -> str:
        return f"{super().format(record)} {getattr(record, 'request', '')}"

    def getvalue(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def written() -> Iterator[Written]:
    """What a handler on the root logger writes, with the redaction installed the way channels do."""
    handler = Written()
    root = logging.getLogger()
    root.addHandler(handler)
    install_log_redaction()
    yield handler
    root.removeHandler(handler)


def test_digit_runs_of_eight_or_more_keep_their_last_four() -> None:
    assert mask_digit_runs(f"GET /conversations/{CUSTOMER}/messages port 5005 on 2027-01-15") == (
        "GET /conversations/•••••••1181/messages port 5005 on 2027-01-15"
    )


def test_rasa_and_sanic_lines_are_masked(written: Written, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sanic.access")
    logging.getLogger("rasa.core.processor").warning("Starting a new session for conversation ID '%s'.", CUSTOMER)
    logging.getLogger("sanic.error").error("Exception occurred while handling uri: %s", f"'http://rasa:5005/conversations/{CUSTOMER}/tracker'")
    logging.getLogger("sanic.access").info("", extra={"request": f"GET http://rasa:5005/conversations/{CUSTOMER}/tracker"})
    lines = written.getvalue()
    assert CUSTOMER not in lines and lines.count("•••••••1181") == 3


def test_the_action_servers_quoted_answer_never_reaches_rasas_error_log(written: Written) -> None:
    """rasa-sdk answered 500 with the whole request; Rasa logs the ClientResponseError quoting it."""
    answer = json.dumps({"error": "boom", "request_body": {"sender_id": CUSTOMER, "tracker": {"latest_message": {"text": WORDS}}}})
    try:
        try:
            raise ClientResponseError(500, "Internal Server Error", answer)
        except ClientResponseError as error:
            raise RasaException("Failed to execute custom action 'action_request_handoff'") from error
    except RasaException:
        logging.getLogger("rasa.core.processor").exception("Encountered an exception while running action 'action_request_handoff'.")
    lines = written.getvalue()
    assert "ClientResponseError: 500, Internal Server Error, body=[redacted]" in lines
    assert CUSTOMER not in lines and WORDS not in lines and "•••••••1181" not in lines


def test_our_json_lines_are_masked_too() -> None:
    record = logging.LogRecord("channels.attendant", logging.INFO, __file__, 1, "attendant.request %s", (CUSTOMER,), None)
    record.path = f"/webhooks/attendant/conversations/{CUSTOMER}"
    REDACTING_FILTER.filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["event"] == "attendant.request •••••••1181"
    assert entry["path"] == "/webhooks/attendant/conversations/•••••••1181"


def test_installing_twice_adds_the_filter_once(written: Written) -> None:
    install_log_redaction()
    handler = logging.getLogger().handlers[-1]
    assert handler.filters.count(REDACTING_FILTER) == 1
    assert logging.getLogger("sanic.access").filters.count(REDACTING_FILTER) == 1
