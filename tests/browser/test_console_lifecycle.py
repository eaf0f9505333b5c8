"""The console beyond the 24-hour window, in the browser: countdown, opted-out badge, Resolve, template picker."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.browser.pages import InboxPage
from tests.browser.test_console_modules import run_module_script

TEMPLATES = [
    {"name": "appointment_follow_up", "language": "pt_BR", "category": "UTILITY", "parameters": 2,
     "body": "Olá {{1}}, sobre o seu horário de {{2}}: responda esta mensagem para falar com a nossa equipe."},
    {"name": "appointment_reminder", "language": "en_US", "category": "UTILITY", "parameters": 2,
     "body": "Hi {{1}}, this is a reminder of your appointment on {{2}}. Reply CHANGE to move it or CANCEL to cancel."},
]

PICKER_SCRIPT = """
const [templates] = arguments;
const lifecycle = await import('/console/js/lifecycle.js');
const make = (tag) => document.body.appendChild(document.createElement(tag));
const parts = {windowState: make('p'), badge: make('span'), resolveButton: make('button'), replyForm: make('form'),
               form: make('form'), select: document.createElement('select'), fields: document.createElement('div'),
               preview: document.createElement('p')};
parts.form.append(parts.select, parts.fields, parts.preview);
const submit = document.createElement('button'); submit.type = 'submit'; parts.form.append(submit);
const sent = [], resolved = [];
let conversation = {id: '5511987654321', status: 'bot', assigned_to: null, opted_out: false,
                    window_open_until: new Date(Date.now() + (4 * 60 + 5) * 60000 + 30000).toISOString()};
const view = lifecycle.setUpLifecycle({...parts, current: () => conversation, me: () => ({sub: 'ana', role: 'attendant'}),
  tell: (text) => { throw new Error(text); }, onSent: (message) => sent.push(message), onChanged: (c) => resolved.push(c.status),
  calls: {templates: async () => ({templates}), send: async (id, body) => ({id: 'out-1', message: {id: 'out-1', body}}),
          resolve: async (id) => ({id, status: 'closed'})}});
view.render();
const open = {window: parts.windowState.textContent, picker: parts.form.hidden, reply: parts.replyForm.hidden};
conversation = {...conversation, window_open_until: null};
view.render();
await new Promise((resolve) => setTimeout(resolve, 50));
parts.select.value = '1'; parts.select.dispatchEvent(new Event('change'));
const inputs = [...parts.fields.querySelectorAll('input')];
inputs[0].value = 'Kerry'; inputs[1].value = 'Nov 26 at 9:00 AM'; inputs[1].dispatchEvent(new Event('input'));
const closed = {window: parts.windowState.textContent, picker: parts.form.hidden, reply: parts.replyForm.hidden,
                options: [...parts.select.options].map((o) => o.textContent), fields: inputs.length,
                preview: parts.preview.textContent};
parts.form.requestSubmit();
await new Promise((resolve) => setTimeout(resolve, 50));
parts.resolveButton.click();
await new Promise((resolve) => setTimeout(resolve, 50));
conversation = {...conversation, opted_out: true, status: 'human', assigned_to: 'bruno'};
view.render();
done({open, closed, sent, resolved,
      optedOut: {badge: parts.badge.hidden, picker: parts.form.hidden, resolve: parts.resolveButton.hidden}});
"""


@pytest.fixture
def page(browser, console_service) -> Iterator[InboxPage]:
    """A console page, for its modules."""
    window = InboxPage(browser, 1000, 700)
    try:
        yield window.open(console_service.url)
    finally:
        window.close()


def test_the_template_picker_replaces_the_composer_once_the_window_closes(page):
    result = run_module_script(page, PICKER_SCRIPT, TEMPLATES)
    assert result["open"] == {"window": "Window open · closes in 4 h 05 min", "picker": True, "reply": False}
    assert result["closed"] == {
        "window": "Window closed · only a template reaches the customer", "picker": False, "reply": True,
        "options": ["appointment_follow_up (pt_BR)", "appointment_reminder (en_US)"], "fields": 2,
        "preview": "Hi Kerry, this is a reminder of your appointment on Nov 26 at 9:00 AM. Reply CHANGE to move it or CANCEL to cancel.",
    }
    assert result["sent"] == [{"id": "out-1", "body": {
        "name": "appointment_reminder", "language": "en_US", "parameters": ["Kerry", "Nov 26 at 9:00 AM"]}}]
    assert result["resolved"] == ["closed"]
    assert result["optedOut"] == {"badge": False, "picker": True, "resolve": True}
