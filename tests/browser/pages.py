"""Page objects for the console: what a person does in the inbox and in the simulator, one window each."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, TypeVar

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

T = TypeVar("T")
TURN_TIMEOUT = 45.0  # one dialogue turn through webhook, worker, actions and outbox on a 2-core machine
PROBE = (Path(__file__).parent / "probe.js").read_text()


class Window:
    """One browser window, brought to the front before every action."""

    def __init__(self, driver: WebDriver, width: int, height: int) -> None:
        self.driver = driver
        driver.switch_to.new_window("window")
        self.handle = driver.current_window_handle
        driver.set_window_size(width, height)

    def close(self) -> None:
        """Close this window (its page's streams and timers end with it)."""
        if self.handle in self.driver.window_handles:
            self.focus().close()
        self.driver.switch_to.window(self.driver.window_handles[0])

    def focus(self) -> WebDriver:
        if self.driver.current_window_handle != self.handle:
            self.driver.switch_to.window(self.handle)
        return self.driver

    def wait(self, condition: Callable[[WebDriver], T], what: str, timeout: float = TURN_TIMEOUT) -> T:
        """Poll `condition` until it is truthy, or fail saying `what` never happened (with the browser log)."""
        driver = self.focus()

        def check(d: WebDriver) -> T:
            try:
                return condition(d)
            except StaleElementReferenceException:
                return None  # the page re-rendered that element: look again

        try:
            return WebDriverWait(driver, timeout, poll_frequency=0.2).until(check)
        except TimeoutException:
            log = "\n".join(entry["message"] for entry in driver.get_log("browser"))
            raise AssertionError(f"{what} did not happen in {timeout}s; browser log:\n{log}") from None

    def click(self, find: Callable[[], object], what: str) -> None:
        """Click what `find()` returns once it exists, looking again if the page re-rendered it."""
        def clicked(_: WebDriver) -> bool:
            element = find()
            if element is None:
                return False
            element.click()
            return True

        self.wait(clicked, f"clicking {what}")

    def css(self, selector: str):
        return self.focus().find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str):
        return self.focus().find_elements(By.CSS_SELECTOR, selector)

    def script(self, source: str, *args):
        return self.focus().execute_script(source, *args)

    def install_probe(self) -> None:
        """Put tests/browser/probe.js into the page: `window.__probe` holds timers and fetch answers."""
        self.script(PROBE)
        assert self.script("return typeof window.__probe") == "object"

    def probe(self, call: str, *args):
        """The value of `window.__probe.<call>`, e.g. `probe("log()")`; `arguments[i]` are `args`."""
        return self.script(f"return window.__probe.{call};", *args)

    def requests_to(self, fragment: str, method: str = "GET", from_index: int = 0) -> List[dict]:
        """The page's fetch() calls whose URL contains `fragment`, from the probe's log."""
        return [entry for entry in self.probe("log(arguments[0])", from_index)
                if fragment in entry["url"] and entry["method"] == method]


class SimulatorPage(Window):
    """The WhatsApp simulator, as a customer uses it."""

    def open(self, base_url: str) -> SimulatorPage:
        self.focus().get(f"{base_url}/console/simulator")
        self.wait(lambda d: self.css("#customer-summary").text, "the simulator's start")
        return self

    def use_customer(self, wa_id: str, name: str) -> None:
        self.css("#customer summary").click()
        for selector, value in (("#customer-wa-id", wa_id), ("#customer-name", name)):
            field = self.css(selector)
            field.clear()
            field.send_keys(value)
        self.css("#customer-form button[type=submit]").click()
        self.wait(lambda d: wa_id in self.css("#customer-summary").text, "switching customer")

    def send(self, text: str) -> None:
        box = self.css("#message")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        self.wait(lambda d: self.all("li.from-customer[data-state=sent]")
                  and self.all("li.from-customer")[-1].get_attribute("data-state") == "sent",
                  f"the webhook accepting {text!r}")

    def business_texts(self, origin: str = "") -> List[str]:
        selector = f"li.from-business[data-origin={origin}] .bubble" if origin else "li.from-business .bubble"
        return [element.text for element in self.all(selector)]

    def count_business(self, fragment: str) -> int:
        return sum(fragment in text for text in self.business_texts())

    def wait_business(self, fragment: str, origin: str = "", count: int = 1) -> None:
        self.wait(lambda d: sum(fragment in text for text in self.business_texts(origin)) >= count,
                  f"a business message containing {fragment!r} (×{count})")

    def tap_button(self, title: str) -> None:
        buttons = [b for b in self.all("button.wa-button:not(.wa-list-open)") if b.text == title]
        assert buttons, f"no reply button {title!r}"
        buttons[-1].click()

    def choose_from_list(self, row_title: str) -> None:
        self.all("button.wa-list-open")[-1].click()
        self.wait(lambda d: self.css("#list-dialog").get_attribute("open") is not None, "the list opening")
        labels = [label for label in self.all("#list-sections label") if row_title in label.text]
        assert labels, f"no list row {row_title!r}"
        labels[0].click()
        self.css("#list-send").click()


class InboxPage(Window):
    """The attendant inbox, as an attendant uses it."""

    def open(self, base_url: str) -> InboxPage:
        self.focus().get(f"{base_url}/console/")
        self.wait(lambda d: self.css("#token").is_displayed(), "the sign-in form")
        return self

    def sign_out(self) -> None:
        self.css("#sign-out").click()
        self.wait(lambda d: self.css("#sign-in").is_displayed() and not self.css("#desk").is_displayed(), "signing out")

    def appointment(self, appointment_id: int):
        items = self.all(f'li.appointment[data-id="{appointment_id}"]')
        return items[0] if items else None

    def appointment_part(self, appointment_id: int, selector: str):
        return self.css(f'li.appointment[data-id="{appointment_id}"] {selector}')

    def wait_appointment(self, appointment_id: int, listed: bool = True) -> None:
        self.wait(lambda d: (self.appointment(appointment_id) is not None) == listed,
                  f"appointment request {appointment_id} {'listed' if listed else 'gone from the list'}")

    def sign_in(self, token: str) -> None:
        self.css("#token").send_keys(token)
        self.css("#sign-in-form button[type=submit]").click()
        self.wait(lambda d: self.css("#desk").is_displayed(), "signing in")
        self.wait(lambda d: self.css("#stream-state").get_attribute("data-state") == "open", "the live stream")

    def queue_item(self, customer: str):
        items = self.all(f'.conversation-item[data-id="{customer}"]')
        return items[0] if items else None

    def wait_in_queue(self, customer: str, status: str = "") -> None:
        """Wait until the customer is listed (with `status`, when given)."""
        self.wait(lambda d: (item := self.queue_item(customer)) is not None
                  and (not status or item.get_attribute("data-status") == status),
                  f"{customer} listed in the queue {('as ' + status) if status else ''}")

    def open_conversation(self, customer: str, title: str) -> None:
        self.click(lambda: self.queue_item(customer), f"{customer} in the queue")
        self.wait(lambda d: self.css("#conversation-title").text == title
                  and self.css("#history").get_attribute("data-conversation") == customer,
                  f"the conversation with {title} and its history")

    def history(self) -> List[tuple]:
        return [(item.get_attribute("data-sender"), item.find_element(By.CSS_SELECTOR, ".message-text").text)
                for item in self.all("#history li")]

    def claim(self) -> None:
        self.css("#claim").click()
        self.wait(lambda d: self.css("#reply-form").is_displayed(), "the claim")

    def reply(self, text: str) -> None:
        box = self.css("#reply-text")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        self.wait(lambda d: ("attendant", text) in self.history(), "the reply in the history")

    def delivery_of(self, text: str) -> str:
        for item in self.all("#history li.from-attendant"):
            if item.find_element(By.CSS_SELECTOR, ".message-text").text == text:
                ticks = item.find_elements(By.CSS_SELECTOR, ".tick")
                return ticks[0].get_attribute("data-status") if ticks else ""
        return ""

    def dismiss_toast(self) -> None:
        """Close the notice in the corner, if one is showing (as a person would, before a screenshot)."""
        if self.css("#toast").is_displayed():
            self.css("#toast-close").click()
            self.wait(lambda d: not self.css("#toast").is_displayed(), "the notice closing")

    def release(self) -> None:
        self.css("#release").click()
        self.wait(lambda d: not self.css("#release").is_displayed()
                  and self.css("#conversation-meta").text.startswith("Assistant answering"),
                  "the release")
