"""The simulator when the customer changes: the old customer's polling ends with the switch.

tests/browser/probe.js holds the old customer's poll in flight and the new customer's history
back, and keeps timers from running, so the switch happens at the worst moment every time.
"""

from __future__ import annotations

from tests.browser.backend import simulator_rows
from tests.browser.test_console_journey import GREETING

UNAVAILABLE = {"error": "storage_unavailable", "message": "The database is unavailable; retry shortly."}


def test_switching_customer_stops_the_old_customers_polling(simulator, console_service):
    old, new = "15550005501", "15550005502"
    simulator.install_probe()
    simulator.use_customer(new, "Nell New")
    simulator.send("hello")
    simulator.wait_business(GREETING)
    simulator.use_customer(old, "Otto Old")
    old_replies, new_history = f"wa_id={old}", f"wa_id={new}&after=0"

    simulator.probe("gate(arguments[0], 'GET', {answer: arguments[1]})", old_replies, {"status": 503, "body": UNAVAILABLE})
    simulator.wait(lambda d: [r["state"] for r in simulator.requests_to(old_replies)][-1:] == ["held"],
                   "a poll of the old customer on its way")
    simulator.probe("hold()")  # no poll timer is set while that poll is in flight; none may run from now on
    simulator.probe("gate(arguments[0])", new_history)
    switched_at = len(simulator.probe("log()"))
    simulator.use_customer(new, "Nell New")
    simulator.wait(lambda d: [r["state"] for r in simulator.requests_to(new_history, from_index=switched_at)] == ["held"],
                   "the new customer's history on its way")

    simulator.probe("release(arguments[0])", old_replies)  # the old customer's late (failed) answer
    simulator.probe("fireTimers()")  # any poll left behind runs now
    simulator.wait(lambda d: all(r["state"] != "sent" for r in simulator.probe("log()")), "the calls in flight ending")
    simulator.probe("release(arguments[0])", new_history)
    simulator.wait(lambda d: simulator.all("#chat li.from-customer") and simulator.count_business(GREETING) >= 1,
                   "the new customer's chat")

    assert not simulator.css("#problem").is_displayed(), simulator.css("#problem").text
    assert [r["url"] for r in simulator.requests_to(old_replies, from_index=switched_at)] == []
    assert [r["aborted"] for r in simulator.requests_to(old_replies)][-1] is True
    entries = simulator.all("#chat li")
    assert [e.get_attribute("class") for e in entries] == ["entry from-customer"] + ["entry from-business"] * (len(entries) - 1)
    assert [int(e.get_attribute("data-id")) for e in entries[1:]] == simulator_rows(console_service, new)
