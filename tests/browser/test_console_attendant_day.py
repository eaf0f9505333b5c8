"""An attendant's day in the inbox: their customers pinned with unread counts and a beep, status words,
why the customer waits, confirmations before text goes out, dates in the browser's locale, and a phone.

The attendant is `lea`, so that the conversations held here are nobody else's in the other tests.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.browser.backend import customer_writes, request_appointment
from tests.browser.conftest import save_screenshot
from tests.browser.pages import InboxPage
from tests.integration.service import attendant_token

ASK_FOR_A_PERSON = "I want to talk to a person"
# Counts the beeps, on the prototype: the inbox's AudioContext may exist already (a waiting customer beeps too).
COUNT_BEEPS = """
window.__beeps = 0;
const make = BaseAudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__beeps += 1; return make.call(this); };
"""


@pytest.fixture
def lea(browser, console_service) -> Iterator[InboxPage]:
    """The inbox at desktop size, signed in as `lea`."""
    page = InboxPage(browser, 1280, 900)
    try:
        page.open(console_service.url)
        page.sign_in(attendant_token("lea"))
        yield page
    finally:
        page.close()


def waiting_customer(service, inbox: InboxPage, customer: str, name: str) -> None:
    """`customer` asks for a person through the webhook; the inbox lists them as waiting."""
    customer_writes(service, customer, ASK_FOR_A_PERSON, name)
    inbox.wait_in_queue(customer, "waiting")


def badge(inbox: InboxPage, customer: str) -> str:
    return inbox.queue_item(customer).find_element("css selector", ".badge").text


def unread(inbox: InboxPage, customer: str) -> str:
    marks = inbox.queue_item(customer).find_elements("css selector", ".unread")
    return marks[0].text if marks else ""


def test_my_customer_is_pinned_counted_and_heard(lea, console_service):
    inbox, mine, other = lea, "15550007101", "15550007102"
    waiting_customer(console_service, inbox, mine, "Mara Mine")
    assert badge(inbox, mine).startswith("Waiting for a person · ")
    inbox.open_conversation(mine, "Mara Mine")
    assert inbox.css("#conversation-meta").text.startswith("Waiting for a person · ")
    assert inbox.css("#conversation-reason").text == "Why: asked for a person"
    inbox.claim()
    assert inbox.css("#conversation-meta").text == f"With you · +{mine}"
    inbox.wait(lambda d: badge(inbox, mine) == "With you", "'With you' in the list")

    customer_writes(console_service, other, "hello", "Otto Other")  # newer activity, with the assistant
    inbox.wait(lambda d: inbox.queue_item(other) is not None and badge(inbox, other) == "Assistant answering",
               "the other customer with the assistant")
    inbox.open_conversation(other, "Otto Other")
    assert not inbox.css("#conversation-reason").is_displayed() and not inbox.css("#reply-form").is_displayed()
    order = [item.get_attribute("data-id") for item in inbox.all(".conversation-item")]
    assert order[0] == mine, "the conversation I hold is pinned on top"
    assert "mine" in inbox.queue_item(mine).get_attribute("class").split()

    inbox.script(COUNT_BEEPS)
    for count in (1, 2):
        customer_writes(console_service, mine, f"are you there? ({count})", "Mara Mine")
        inbox.wait(lambda d, count=count: unread(inbox, mine) == str(count), f"the unread count at {count}")
    assert inbox.script("return window.__beeps") == 2
    assert [i.get_attribute("data-id") for i in inbox.all(".conversation-item")][0] == mine

    inbox.open_conversation(mine, "Mara Mine")
    inbox.wait(lambda d: unread(inbox, mine) == "", "the unread count gone once opened")
    inbox.wait(lambda d: ("customer", "are you there? (2)") in inbox.history(), "the second message in the history")
    inbox.css("#resolve").click()
    alert = inbox.focus().switch_to.alert
    assert alert.text == "The customer's last message has no answer yet. Resolve anyway?"
    alert.dismiss()
    assert inbox.css("#conversation-meta").text == f"With you · +{mine}" and inbox.css("#resolve").is_enabled()


def test_answering_an_appointment_asks_first(lea, console_service):
    inbox, customer = lea, "15550007103"
    customer_writes(console_service, customer, "hello", "Ada Appointment")
    inbox.wait_in_queue(customer)
    request = request_appointment(console_service, customer, 30, "Haircut")
    inbox.wait_appointment(request)
    inbox.appointment_part(request, "input").send_keys("See you then")

    inbox.appointment_part(request, "button[data-answer=confirm]").click()
    alert = inbox.focus().switch_to.alert
    assert alert.text == ('Confirm Ada Appointment\'s appointment (in 30 h)? Ada Appointment is told on WhatsApp at once'
                          ' with your message "See you then".')
    alert.dismiss()
    assert inbox.appointment_part(request, "button[data-answer=confirm]").is_enabled()
    answered = console_service.api("GET", "/appointments?status=confirmed", attendant_token("lea")).json()
    assert request not in [a["id"] for a in answered["appointments"]], "dismissed: nothing was sent"

    inbox.appointment_part(request, "button[data-answer=decline]").click()
    alert = inbox.focus().switch_to.alert
    assert alert.text.startswith("Decline Ada Appointment's request (in 30 h)? Ada Appointment is told on WhatsApp at once")
    alert.accept()
    inbox.wait_appointment(request, listed=False)
    declined = console_service.api("GET", "/appointments?status=declined", attendant_token("lea")).json()
    assert [(a["id"], a["answered_by"]) for a in declined["appointments"] if a["id"] == request] == [(request, "lea")]


def test_on_a_phone_the_header_is_compact_and_nothing_overflows(browser, console_service):
    customer = "15550007104"
    phone = InboxPage(browser, 390, 844)
    try:
        phone.open(console_service.url)
        phone.sign_in(attendant_token("lea"))
        fits = "return document.documentElement.scrollWidth"
        assert phone.script("return window.innerWidth") <= 390
        waiting_customer(console_service, phone, customer, "Pia Phone")
        phone.dismiss_toast()
        assert phone.script(fits) <= 390
        assert phone.css(".topbar").size["height"] <= 110, "the header takes at most three short rows"
        phone.open_conversation(customer, "Pia Phone")
        phone.claim()
        phone.dismiss_toast()
        assert phone.script(fits) <= 390
        assert phone.css("#back").is_displayed() and not phone.css("#queue").is_displayed()
        box = phone.css("#reply-text")
        phone.script("arguments[0].scrollIntoView({block: 'end'})", box)
        assert box.is_displayed()
        rect = phone.script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.right];", box)
        assert 0 <= rect[0] and rect[1] <= 390, rect
        head = phone.script("const [a, b] = [...arguments].map((e) => e.getBoundingClientRect().top); return [a, b];",
                            phone.css("#back"), phone.css("#conversation-title"))
        assert abs(head[0] - head[1]) < 16, f"back and title share a row: {head}"
        save_screenshot(phone.focus(), "inbox-390px-conversation.png")
    finally:
        phone.close()


MODULES_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const [dom, views, appointments] = await Promise.all([
    import('/console/js/dom.js'), import('/console/js/inbox-views.js'), import('/console/js/appointments.js')]);
  const me = {sub: 'lea'}, now = Date.parse('2026-11-20T12:00:00Z');
  const all = [
    {id: 'b', status: 'bot', last_message_at: '2026-11-20T11:59:00Z'},
    {id: 'w2', status: 'waiting', waiting_since: '2026-11-20T11:50:00Z'},
    {id: 'o', status: 'human', assigned_to: 'ana', last_message_at: '2026-11-20T11:58:00Z'},
    {id: 'm1', status: 'human', assigned_to: 'lea', last_message_at: '2026-11-20T10:00:00Z'},
    {id: 'w1', status: 'waiting', waiting_since: '2026-11-20T11:40:00Z'},
    {id: 'c', status: 'closed', last_message_at: '2026-11-20T11:00:00Z'},
    {id: 'm2', status: 'human', assigned_to: 'lea', last_message_at: '2026-11-20T11:00:00Z'},
  ];
  const evening = new Date(2026, 10, 20, 21, 5);
  const hourCycle = new Intl.DateTimeFormat([], {hour: 'numeric'}).resolvedOptions().hourCycle;
  done({
    order: views.sortConversations(all, me).map((c) => c.id),
    words: all.map((c) => views.statusWords(c, me, now)),
    clock: dom.clockText(evening, new Date(2026, 10, 20, 22, 0)),
    hourCycle,
    question: appointments.answerQuestion('confirm', {conversation_id: '5511', starts_at_text: 'Mon 14:00'}, ''),
  });
})().catch((error) => done({error: String(error)}));
"""


def test_order_words_and_times_in_the_browser(lea):
    result = lea.focus().execute_async_script(MODULES_SCRIPT)
    assert result["order"] == ["m2", "m1", "w1", "w2", "o", "b", "c"]
    assert result["words"] == [
        "Assistant answering", "Waiting for a person · 10 min", "With ana", "With you", "Waiting for a person · 20 min",
        "Resolved", "With you",
    ]
    # --lang=en-US: a 12-hour clock is the custom there, so the time says PM (a 24-hour locale would say 21:05).
    assert result["hourCycle"] == "h12" and result["clock"] == "09:05 PM"
    assert result["question"] == "Confirm +5511's appointment (Mon 14:00)? +5511 is told on WhatsApp at once."
