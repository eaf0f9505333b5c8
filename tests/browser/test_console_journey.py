"""The whole product in a browser: a simulator customer, the attendant inbox, and back to the bot.

The real service runs with SIMULATOR_ENABLED=true and no Graph token (embedded settings), so
every reply is logged by the outbox and shown by the simulator, and every customer message
enters through the signed WhatsApp webhook. Screenshots go to results/screenshots/.
"""

from __future__ import annotations

from tests.browser.backend import queue_bot_messages
from tests.browser.conftest import save_screenshot

GREETING = "I'm the virtual assistant"
HOLDING = "asked a person from our team"
RELEASED = "back with the virtual assistant"
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> is this shown as text?'


def test_customer_reaches_a_person_and_goes_back_to_the_bot(simulator, inbox):
    customer = "15550001181"
    simulator.use_customer(customer, "Kerry Fisher")
    simulator.send("hello")
    simulator.wait_business(GREETING)
    simulator.send("I want to talk to a person")
    simulator.wait_business(HOLDING)

    inbox.wait_in_queue(customer, "waiting")
    assert inbox.queue_item(customer).find_element("css selector", ".badge").text.startswith("Waiting")
    statuses = [item.get_attribute("data-status") for item in inbox.all(".conversation-item")]
    assert statuses == sorted(statuses, key=lambda status: status != "waiting"), "waiting customers come first"
    inbox.dismiss_toast()
    save_screenshot(inbox.focus(), "inbox-queue.png")

    inbox.open_conversation(customer, "Kerry Fisher")
    inbox.wait(lambda d: ("customer", "I want to talk to a person") in inbox.history(), "the request in the history")
    inbox.wait(lambda d: any(sender == "bot" and GREETING in text for sender, text in inbox.history()), "the greeting")
    inbox.claim()
    reply = "Hi Kerry, this is Ana from the team. How can I help?"
    inbox.reply(reply)
    inbox.wait(lambda d: inbox.delivery_of(reply) == "logged", "the delivery tick of the reply")
    inbox.dismiss_toast()
    save_screenshot(inbox.focus(), "inbox-conversation.png", readme_name="console-inbox.png")

    simulator.wait_business(reply, origin="attendant")
    save_screenshot(simulator.focus(), "simulator-attendant-reply.png")

    inbox.release()
    simulator.wait_business(RELEASED)
    greetings = simulator.count_business(GREETING)
    simulator.send("hi")
    simulator.wait_business(GREETING, count=greetings + 1)
    save_screenshot(simulator.focus(), "simulator-back-to-bot.png", readme_name="console-simulator.png")

    inbox.wait_in_queue(customer, "bot")
    inbox.dismiss_toast()
    inbox.focus().set_window_size(375, 812)
    inbox.wait(lambda d: inbox.script("return document.documentElement.scrollWidth") <= 375, "fitting 375px")
    save_screenshot(inbox.focus(), "inbox-375px.png")


def test_customer_text_is_shown_as_text_never_run(simulator, inbox):
    customer = "15550003333"
    simulator.use_customer(customer, "Mallory <b>Bold</b>")
    simulator.send(XSS)
    inbox.wait_in_queue(customer)  # the assistant may answer or hand over: either way it is listed
    assert XSS[:40] in inbox.queue_item(customer).find_element("css selector", ".preview").text
    inbox.open_conversation(customer, "Mallory <b>Bold</b>")
    inbox.wait(lambda d: ("customer", XSS) in inbox.history(), "the message in the history")
    assert inbox.script("return document.querySelectorAll('#desk script, #desk img, #desk b').length") == 0
    assert [text for text in simulator.all("li.from-customer .bubble .wa-text") if text.text == XSS]
    assert simulator.script("return document.querySelectorAll('#chat script, #chat img').length") == 0
    for page in (inbox, simulator):
        assert page.script("return window.__xss === undefined")
    save_screenshot(inbox.focus(), "inbox-script-as-text.png")


def test_simulator_shows_buttons_lists_and_menus_and_sends_the_choices(simulator, console_service):
    customer = "15550002222"
    simulator.use_customer(customer, "Jo Button")
    simulator.send("hello")
    simulator.wait_business(GREETING)
    queue_bot_messages(console_service, customer, [
        {"type": "text", "text": {"body": "Pick one:\n\n1. Prices\n2. Opening hours"}},
        {"type": "interactive", "interactive": {"type": "list", "body": {"text": "What would you like?"}, "action": {
            "button": "Options", "sections": [{"title": "Options", "rows": [
                {"id": "/greet", "title": "Say hello"}, {"id": "/deny", "title": "Nothing", "description": "Close"}]}]}}},
        {"type": "interactive", "interactive": {"type": "button", "body": {"text": "Would you like to talk to a person?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "/request_human", "title": "Talk to a person"}},
                                   {"type": "reply", "reply": {"id": "/deny", "title": "No, thanks"}}]}}},
    ])
    simulator.wait(lambda d: len(simulator.all("li.from-business[data-kind=button]")) == 1, "the reply buttons")
    assert any("Pick one:\n\n1. Prices\n2. Opening hours" in text for text in simulator.business_texts())
    save_screenshot(simulator.focus(), "simulator-buttons-and-list.png")

    greetings = simulator.count_business(GREETING)
    simulator.choose_from_list("Say hello")
    simulator.wait(lambda d: simulator.all("li.from-customer .wa-text")[-1].text == "Say hello", "the list reply bubble")
    simulator.wait_business(GREETING, count=greetings + 1)

    simulator.tap_button("Talk to a person")
    simulator.wait_business(HOLDING)
