"""Console modules run in the browser itself: the stream parser, formatting, delivery states."""

from __future__ import annotations

from typing import Iterator

import pytest

from supportdesk.attendant.openapi import openapi_document
from tests.browser.pages import InboxPage


@pytest.fixture
def page(browser, console_service) -> Iterator[InboxPage]:
    """A console page, for its modules."""
    window = InboxPage(browser, 800, 600)
    try:
        yield window.open(console_service.url)
    finally:
        window.close()


def run_module_script(page: InboxPage, source: str, *args):
    """Run `source` (which calls `done(value)`) in the page and return the value, failing on an error."""
    result = page.focus().execute_async_script(f"""
const done = arguments[arguments.length - 1];
(async () => {{ {source} }})().catch((error) => done({{error: String(error)}}));
""", *args)
    assert not (isinstance(result, dict) and "error" in result), result
    return result


SSE_CHUNKS = ['id: 5\nevent: message.created\ndata: {"a"', ':1}\n\r', '\n: heartbeat\nretry: 100\nid: 6\ndata: x\ndata: y\n\n']
SSE_SCRIPT = """
const [chunks] = arguments;
const [sse, dom] = await Promise.all([import('/console/js/sse.js'), import('/console/js/dom.js')]);
const events = [], retries = [];
const parser = new sse.SseParser((event) => events.push(event), (ms) => retries.push(ms));
chunks.forEach((chunk) => parser.push(chunk));
const box = document.createElement('p');
box.append(dom.formattedText('*bold* _it_ a*b*c <i>x</i>'));
done({events, retries, html: box.innerHTML, link: dom.safeLink('javascript:alert(1)')});
"""


def test_stream_parser_and_formatting_in_the_browser(page):
    result = run_module_script(page, SSE_SCRIPT, SSE_CHUNKS)
    assert result["events"] == [
        {"id": "5", "event": "message.created", "data": '{"a":1}'},
        {"id": "6", "event": "message", "data": "x\ny"},
    ]
    assert result["retries"] == [100]
    assert result["html"] == "<strong>bold</strong> <em>it</em> a*b*c &lt;i&gt;x&lt;/i&gt;"
    assert result["link"] is None


DELIVERY_SCRIPT = """
const delivery = await import('/console/js/delivery-status.js');
const states = [...delivery.DELIVERY_STATUSES];
done({
  states,
  ranks: states.map(delivery.deliveryRank),
  unknown: [delivery.deliveryRank('played'), delivery.deliveryRank(undefined), delivery.deliveryRank('toString')],
  stepsBack: [['read', 'delivered'], ['delivered', 'read'], ['failed', 'read'], ['sent', 'logged'], ['sent', 'pending']]
    .map(([known, incoming]) => delivery.isStepBack(known, incoming)),
  words: states.map((state) => delivery.deliveryLabel(state).words),
});
"""


def test_delivery_states_are_the_apis_in_delivery_order(page):
    result = run_module_script(page, DELIVERY_SCRIPT)
    api_states = openapi_document()["components"]["schemas"]["Message"]["properties"]["status"]["enum"]
    assert sorted(result["states"]) == sorted(api_states)
    assert list(zip(result["states"], result["ranks"])) == [
        ("pending", 0), ("sending", 1), ("sent", 2), ("logged", 2), ("delivered", 3), ("read", 4),
        ("failed", 5), ("suppressed", 5),
    ]
    assert result["unknown"] == [-1, -1, -1]
    assert result["stepsBack"] == [True, False, True, False, True]
    assert result["words"] == ["sending", "sending", "sent", "logged, not sent (no WhatsApp token: the simulator shows it)",
                               "delivered", "read", "not delivered", "not sent"]
