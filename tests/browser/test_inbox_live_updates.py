"""The inbox while things happen around it: signing out.

Races are made certain, not hoped for: tests/browser/probe.js holds a request's answer back or
keeps timers from running, so the awkward moment is held open while the test acts.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.browser.backend import customer_writes
from tests.browser.pages import InboxPage
from tests.integration.service import attendant_token


@pytest.fixture
def probed_inbox(browser, console_service) -> Iterator[InboxPage]:
    """The inbox with the probe in place before `ana` signs in, so it sees the stream and every timer."""
    page = InboxPage(browser, 1280, 900)
    try:
        page.open(console_service.url)
        page.install_probe()
        page.sign_in(attendant_token("ana"))
        yield page
    finally:
        page.close()


def test_signing_out_leaves_nothing_running(probed_inbox, console_service):
    inbox, customer = probed_inbox, "15550004403"
    inbox.probe("hold()")  # timers set from now on wait for the test
    customer_writes(console_service, customer, "hello", "Sid Signout")
    inbox.wait(lambda d: inbox.probe("heldTimers()") > 0, "the queue refresh the new message asks for")
    before = len(inbox.probe("log()"))

    inbox.sign_out()
    assert inbox.probe("pendingTimers()") == 0
    assert inbox.probe("fireTimers()") == 0
    inbox.wait(lambda d: all(r["state"] != "sent" for r in inbox.probe("log()")), "the calls in flight ending")
    streams = inbox.requests_to("/webhooks/attendant/stream")
    assert [r["aborted"] for r in streams] == [True]
    assert inbox.probe("log(arguments[0])", before) == []
    assert inbox.css("#sign-in-error").text == ""
    assert inbox.css("#stream-state").text == ""
    assert inbox.all("#conversation-list li, #appointment-list li, #history li") == []
