"""The inbox while things happen around it: requests arriving, answers on their way, signing out.

Races are made certain, not hoped for: tests/browser/probe.js holds a request's answer back or
keeps timers from running, so the awkward moment is held open while the test acts.
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from tests.browser.backend import customer_writes, history_ids, request_appointment
from tests.browser.pages import InboxPage
from tests.integration.service import attendant_token

CONFIRMED = "Appointment confirmed; the customer was told."


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


def known_customer(service, inbox: InboxPage, customer: str, name: str) -> None:
    """A customer who wrote once, listed in the inbox."""
    customer_writes(service, customer, "hello", name)
    inbox.wait_in_queue(customer)


def test_a_note_being_typed_survives_requests_coming_and_going(inbox, console_service):
    customer = "15550004401"
    known_customer(console_service, inbox, customer, "Nora Note")
    later = request_appointment(console_service, customer, 30, "Haircut")
    inbox.wait_appointment(later)
    note = inbox.appointment_part(later, "input")
    note.click()
    note.send_keys("Please come ten minutes early")
    inbox.script("window.__typedInto = arguments[0].closest('li')", note)

    sooner = request_appointment(console_service, customer, 20, "Colour")  # listed above the one being typed in
    inbox.wait_appointment(sooner)
    answered = console_service.api("POST", f"/appointments/{sooner}/decline", attendant_token("bea"), json={})
    assert answered.status_code == 200, answered.text
    inbox.wait_appointment(sooner, listed=False)

    item = inbox.appointment(later)
    assert inbox.script("return arguments[0] === window.__typedInto", item), "the item was rebuilt"
    assert inbox.appointment_part(later, "input").get_attribute("value") == "Please come ten minutes early"
    assert inbox.script("return document.activeElement === arguments[0]", inbox.appointment_part(later, "input"))


def test_an_appointment_is_answered_once_however_often_it_is_clicked(probed_inbox, console_service):
    inbox, customer = probed_inbox, "15550004402"
    known_customer(console_service, inbox, customer, "Dora Double")
    request = request_appointment(console_service, customer, 40, "Massage")
    inbox.wait_appointment(request)
    answer_path = f"/appointments/{request}/"
    inbox.probe("gate(arguments[0], 'POST', {before: true})", answer_path)  # the server knows nothing yet

    confirm = inbox.appointment_part(request, "button[data-answer=confirm]")
    decline = inbox.appointment_part(request, "button[data-answer=decline]")
    confirm.click()
    inbox.focus().switch_to.alert.accept()  # the customer is told at once: the console asks first
    inbox.wait(lambda d: [r["state"] for r in inbox.requests_to(answer_path, "POST")] == ["held"],
               "the confirmation on its way")
    assert [confirm.get_attribute("disabled"), decline.get_attribute("disabled")] == ["true", "true"]
    inbox.script("arguments[0].click(); arguments[0].click(); arguments[1].click();", confirm, decline)

    inbox.probe("release(arguments[0])", answer_path)
    inbox.wait_appointment(request, listed=False)
    assert [(r["url"].split(answer_path)[1], r["status"]) for r in inbox.requests_to(answer_path, "POST")] == [
        ("confirm", 200)
    ]
    assert inbox.css("#toast-text").get_attribute("textContent") == CONFIRMED
    confirmed = console_service.api("GET", "/appointments?status=confirmed", attendant_token("ana")).json()
    assert [(a["id"], a["answered_by"]) for a in confirmed["appointments"] if a["id"] == request] == [(request, "ana")]


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
    assert inbox.requests_to("/webhooks/attendant/stream")[-1]["aborted"] is True
    assert inbox.probe("log(arguments[0])", before) == []
    assert inbox.css("#sign-in-error").text == ""
    assert inbox.css("#stream-state").text == ""
    assert inbox.all("#conversation-list li, #appointment-list li, #history li") == []


def test_messages_arriving_while_a_history_loads_are_shown_once_in_order(probed_inbox, console_service):
    inbox, customer = probed_inbox, "15550004404"
    known_customer(console_service, inbox, customer, "Mia Merge")
    inbox.wait(lambda d: len(history_ids(console_service, customer)) >= 2, "the assistant answering the first message")
    history_path = f"/conversations/{customer}/messages"
    inbox.probe("gate(arguments[0])", history_path)
    inbox.click(lambda: inbox.queue_item(customer), f"{customer} in the queue")
    inbox.wait(lambda d: [r["state"] for r in inbox.requests_to(history_path)] == ["held"],
               "the server answering the history (held back from the page)")

    text = "and one more thing while you load"
    customer_writes(console_service, customer, text, "Mia Merge")
    inbox.wait(lambda d: json.dumps(text) in inbox.probe("streamText()"), "the stream telling of the new message")
    inbox.probe("release(arguments[0])", history_path)

    def shown_ids():
        return inbox.script("return [...document.querySelectorAll('#history li')].map((item) => item.dataset.id)")

    inbox.wait(lambda d: shown_ids() == history_ids(console_service, customer) and ("customer", text) in inbox.history(),
               "the history with the message that came while it loaded")
    shown = shown_ids()
    assert len(shown) == len(set(shown)), shown
    assert inbox.css("#history").get_attribute("data-conversation") == customer
