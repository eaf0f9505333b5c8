"""The attendant's workspace in a browser: Suggest fills the composer, `/hours` inserts a saved reply, the dashboard draws.

A service of its own runs with OpenAI pointed at the fake OpenAI server, so the handoff summary
and the draft go through the real openai client.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from selenium.webdriver.common.keys import Keys

from supportdesk.attendant.canned_responses import load_canned_responses
from tests.browser.conftest import _credentials, _require_browser, save_screenshot
from tests.browser.pages import InboxPage, SimulatorPage
from tests.fakes.fake_openai import DEFAULT_ANSWER, FAKE_API_KEY, FakeOpenAi
from tests.integration.service import RunningService, attendant_token, service_env

HOLDING = "asked a person from our team"
DRAFT = "Hi Kerry! Your refund is on its way; you will see it within five working days."


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAi]:
    with FakeOpenAi() as server:
        yield server


@pytest.fixture(scope="module")
def ai_service(tmp_path_factory, fake_openai) -> Iterator[RunningService]:
    _require_browser()
    tmp_path = tmp_path_factory.mktemp("workspace")
    env = service_env(f"sqlite:///{tmp_path / 'workspace.db'}", "http://127.0.0.1:9/v24.0", SIMULATOR_ENABLED="true",
                      OPENAI_API_KEY=FAKE_API_KEY, OPENAI_BASE_URL=fake_openai.base_url)
    service = RunningService(tmp_path / "service", env, credentials=_credentials()).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def pages(browser, ai_service) -> Iterator[tuple]:
    simulator, inbox = SimulatorPage(browser, 480, 900), InboxPage(browser, 1280, 900)
    try:
        simulator.open(ai_service.url)
        inbox.open(ai_service.url)
        inbox.sign_in(attendant_token("ana"))
        yield simulator, inbox
    finally:
        simulator.close()
        inbox.close()


def test_suggest_a_shortcut_and_the_dashboard(pages, fake_openai, ai_service):
    simulator, inbox = pages
    customer = "15550001717"
    simulator.use_customer(customer, "Kerry Fisher")
    simulator.send("I want to talk to a person")
    simulator.wait_business(HOLDING)
    fake_openai.wait_for_answers(1)  # the handoff summary
    inbox.focus()
    inbox.wait_in_queue(customer, "waiting")
    inbox.open_conversation(customer, "Kerry Fisher")
    inbox.wait(lambda d: inbox.css("#conversation-summary").text == DEFAULT_ANSWER, "the handoff summary in the header")
    inbox.claim()
    inbox.css('#queue-tabs [data-tab="mine"]').click()
    inbox.wait(lambda d: [i.get_attribute("data-id") for i in inbox.all(".conversation-item")] == [customer], "the Mine tab")
    counts = {b.get_attribute("data-tab"): b.find_element("css selector", ".tab-count").text for b in inbox.all("#queue-tabs button")}
    assert counts == {"waiting": "0", "mine": "1", "all": "1"}

    fake_openai.reply_text(DRAFT)
    inbox.css("#suggest").click()
    inbox.wait(lambda d: inbox.css("#reply-text").get_attribute("value") == DRAFT, "the draft in the composer")
    assert "NOTE" not in fake_openai.chat_bodies()[-1]["messages"][1]["content"]  # no note was written

    hours = next(reply for reply in load_canned_responses() if reply.shortcut == "hours")
    box = inbox.css("#reply-text")
    box.clear()
    box.send_keys("/hou")
    inbox.wait(lambda d: [b.text for b in inbox.all("#shortcut-list button")] == ["/hours"], "the shortcut choice")
    box.send_keys("rs", Keys.ENTER)
    inbox.wait(lambda d: inbox.css("#reply-text").get_attribute("value") == hours.texts["en"], "the saved reply inserted")
    assert not any(sender == "attendant" for sender, _ in inbox.history()), "Enter on a shortcut inserts, never sends"
    save_screenshot(inbox.focus(), "inbox-composer-tools.png")

    simulator.focus()
    simulator.send("Are you there?")
    inbox.focus()
    inbox.wait(lambda d: ("customer", "Are you there?") in inbox.history(), "the customer's new message")
    inbox.css("#release").click()
    inbox.wait(lambda d: d.switch_to.alert.text.startswith("The customer's last message has no answer yet"), "the confirmation")
    inbox.focus().switch_to.alert.dismiss()
    assert inbox.css("#release").is_displayed() and inbox.css("#conversation-meta").text == f"With you · +{customer}"

    assert inbox.css("#who").text == "Ana (attendant)" and not inbox.css("#available").is_selected()
    inbox.css("#available").click()
    inbox.wait(lambda d: inbox.css("#available").is_selected() and inbox.css("#available").is_enabled(), "the availability saved")
    inbox.focus().refresh()  # signed in again from the stored token: who and availability come from GET /me
    inbox.wait(lambda d: inbox.css("#desk").is_displayed() and inbox.css("#available").is_selected(), "available after a reload")

    inbox.focus().get(f"{ai_service.url}/console/dashboard.html")
    inbox.wait(lambda d: inbox.css("#figure-handoffs").text == "1", "the team's figures")
    assert inbox.css("#figure-conversations").text == "1"
    drawn = inbox.script("const c = window.Chart && window.Chart.getChart('per-day-chart');"
                         "return c ? [c.data.labels.length, c.data.datasets.map((d) => d.data.at(-1))] : null;")
    assert drawn == [7, [1, 1, 0]]
    save_screenshot(inbox.focus(), "dashboard.png")


MODULES_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const [dom, tabs] = await Promise.all([import('/console/js/dom.js'), import('/console/js/inbox-tabs.js')]);
  const at = new Date(2026, 10, 20, 9, 5), time = at.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
  const me = {sub: 'ana'};
  const held = {id: '5511', status: 'human', assigned_to: 'ana', customer_name: 'José Álvares', last_message_preview: 'Oi'};
  done({
    today: dom.clockText(at, new Date(2026, 10, 20, 18, 0)) === time,
    older: dom.clockText(at, new Date(2026, 10, 28)) === `${at.toLocaleDateString([], {day: 'numeric', month: 'short'})} ${time}`,
    lastYear: dom.clockText(at, new Date(2027, 0, 2)).includes('2026'),
    tabs: ['waiting', 'mine', 'all'].map((tab) => tabs.inTab(held, tab, me)),
    othersMine: tabs.inTab(held, 'mine', {sub: 'bruno'}),
    search: [tabs.matches(held, 'jose alv'), tabs.matches(held, '551'), tabs.matches(held, 'oi'), tabs.matches(held, 'kerry')],
  });
})().catch((error) => done({error: String(error)}));
"""


def test_dates_tabs_and_search_in_the_browser(pages):
    _, inbox = pages
    assert inbox.focus().execute_async_script(MODULES_SCRIPT) == {
        "today": True, "older": True, "lastYear": True, "tabs": [False, True, True], "othersMine": False,
        "search": [True, True, True, False],
    }


SHORTCUT_RACE_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const { setUpComposerTools } = await import('/console/js/composer-tools.js');
  const realFetch = window.fetch;
  let asked = 0, pending = 0;
  window.fetch = async (url, init) => {  // the first request answered last, as a loaded server may
    if (!String(url).endsWith('/canned-responses')) return realFetch(url, init);
    const delay = Math.max(0, 3 - asked++) * 200;
    pending++;
    try {
      const answer = await realFetch(url, init);
      await new Promise((resolve) => setTimeout(resolve, delay));
      return answer;
    } finally {
      pending--;
    }
  };
  const make = (tag) => document.body.appendChild(document.createElement(tag));
  const form = make('form'), box = form.appendChild(document.createElement('textarea')), list = make('ul');
  list.hidden = true;
  setUpComposerTools({form, box, suggest: make('button'), note: make('button'), list,
                      current: () => null, tell: (text) => done({error: text}), onNote: () => {}});
  for (const text of ['/', '/h', '/ho', '/hou']) {
    box.value = text;
    box.dispatchEvent(new Event('input'));
  }
  while (pending > 0 || list.hidden) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 300));  // a late answer, if any, would land here
  window.fetch = realFetch;
  done({asked, choices: [...list.querySelectorAll('button')].map((b) => b.textContent)});
})().catch((error) => done({error: String(error)}));
"""


def test_shortcut_choices_follow_the_last_keystroke(pages):
    """Four keystrokes before the saved replies arrive: one request, and the choices of the text typed last."""
    _, inbox = pages
    assert inbox.focus().execute_async_script(SHORTCUT_RACE_SCRIPT) == {"asked": 1, "choices": ["/hours"]}


DRAFT_AFTER_SWITCH_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const { setUpComposerTools } = await import('/console/js/composer-tools.js');
  const realFetch = window.fetch;
  let open = {id: '5511'}, answered;
  const drafted = new Promise((resolve) => { answered = resolve; });
  window.fetch = async (url) => {  // the draft for 5511 arrives after the attendant opened 5522
    open = {id: '5522'};
    setTimeout(answered, 0);
    return new Response(JSON.stringify({text: 'Olá, cliente 5511'}), {status: 200});
  };
  const make = (tag) => document.body.appendChild(document.createElement(tag));
  const form = make('form'), box = form.appendChild(document.createElement('textarea')), suggest = make('button');
  box.value = 'typed for 5522';
  setUpComposerTools({form, box, suggest, note: make('button'), list: make('ul'),
                      current: () => open, tell: (text) => done({error: text}), onNote: () => {}});
  suggest.click();
  await drafted;
  while (suggest.disabled) await new Promise((resolve) => setTimeout(resolve, 20));
  window.fetch = realFetch;
  done({box: box.value});
})().catch((error) => done({error: String(error)}));
"""


def test_a_draft_never_lands_in_another_customers_composer(pages):
    """Suggest for one customer, open another before the draft comes: the open composer keeps its text."""
    _, inbox = pages
    assert inbox.focus().execute_async_script(DRAFT_AFTER_SWITCH_SCRIPT) == {"box": "typed for 5522"}
