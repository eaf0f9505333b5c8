"""The console channel through Sanic's clients: static files, their headers, and the simulator's API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from aiohttp import web
from sanic import Sanic

from channels.console import CONTENT_SECURITY_POLICY, STATIC_ROOT, ConsoleInput, static_file
from channels.whatsapp import WhatsAppInput
from supportdesk.messaging import outbox
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.payload import parse_webhook
from supportdesk.whatsapp.signature import SignatureCheck, check_signature
from tests.fakes.server import LoopbackServer
from tests.fixture_files import APP_SECRET, PHONE_NUMBER_ID

CUSTOMER = "16315551181"
_apps = iter(range(10**6))


async def _ignore(_message) -> None:
    return None


def make_app(*channels) -> Sanic:
    """Mount channels the way Rasa's `register` does (urljoin of "/webhooks/" and the prefix)."""
    app = Sanic(f"console_test_{next(_apps)}")
    for channel in channels:
        app.blueprint(channel.blueprint(_ignore), url_prefix=urljoin("/webhooks/", channel.url_prefix()))
    return app


class RecordingWebhook(LoopbackServer):
    """A stand-in for the WhatsApp webhook that records what the simulator posts."""

    def routes(self, app: web.Application) -> None:
        async def receive(request: web.Request) -> web.Response:
            await self.record(request)
            return web.json_response({"status": "received"})

        app.router.add_post("/webhooks/whatsapp/webhook", receive)


@pytest.fixture
def simulator_on(monkeypatch):
    monkeypatch.setenv("SIMULATOR_ENABLED", "true")
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    reset_settings_cache()


async def get(app: Sanic, path: str):
    _, response = await app.asgi_client.get(path)
    return response


async def post_json(app: Sanic, path: str, body) -> object:
    content = body if isinstance(body, bytes) else json.dumps(body)
    _, response = await app.asgi_client.post(path, content=content, headers={"Content-Type": "application/json"})
    return response


def test_the_console_lives_at_slash_console():
    assert urljoin("/webhooks/", ConsoleInput().url_prefix()) == "/console"
    assert ConsoleInput.name() == "console"
    assert isinstance(ConsoleInput.from_credentials(None), ConsoleInput)
    assert ConsoleInput.from_credentials({"webhook_url": "http://x/w"}).webhook_url == "http://x/w"


async def test_inbox_page_is_served_with_strict_headers():
    response = await get(make_app(ConsoleInput()), "/console/")
    assert response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.body == (STATIC_ROOT / "index.html").read_bytes()


def test_the_policy_allows_no_inline_script_and_talks_only_to_its_origin():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script_style_or_remote_resource():
    for page in ("index.html", "simulator.html"):
        html = (STATIC_ROOT / page).read_text()
        assert "<script>" not in html and "<style" not in html and " style=" not in html and "onclick" not in html
        assert "http://" not in html and "https://" not in html


def test_scripts_never_write_html():
    for script in (STATIC_ROOT / "js").glob("*.js"):
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} uses {sink}"


def test_delivery_states_are_written_in_one_console_module():
    scripts = {script.name: script.read_text() for script in (STATIC_ROOT / "js").glob("*.js")}
    naming_states = {name for name, source in scripts.items() if re.search(r"\b(delivered|suppressed)\b", source)}
    importing = {name for name, source in scripts.items() if 'from "./delivery-status.js"' in source}
    assert naming_states == {"delivery-status.js"}
    assert importing == {"history.js", "inbox-views.js"}


async def test_bare_prefix_redirects_to_the_slash():
    response = await get(make_app(ConsoleInput()), "/console")
    assert response.status == 302 and response.headers["location"] == "/console/"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/console/js/inbox.js", "text/javascript; charset=utf-8"),
        ("/console/js/sse.js", "text/javascript; charset=utf-8"),
        ("/console/css/console.css", "text/css; charset=utf-8"),
        ("/console/favicon.svg", "image/svg+xml"),
    ],
)
async def test_files_have_their_content_type(path, content_type):
    response = await get(make_app(ConsoleInput()), path)
    assert response.status == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/console/..%2f..%2fchannels%2fconsole.py",
        "/console/js/..%2f..%2fREADME.md",
        "/console/%2e%2e/%2e%2e/credentials.yml",
        "/console/js/%2e%2e%2findex.html",
        "/console/.gitignore",
        "/console/js/missing.js",
        "/console/index.html%00.js",
        "/console/..%5c..%5cREADME.md",
    ],
)
async def test_nothing_outside_the_published_files_is_served(path):
    response = await get(make_app(ConsoleInput()), path)
    assert response.status == 404


@pytest.mark.parametrize(
    "relative",
    ["", "../channels/console.py", "js/../../README.md", "/etc/passwd", "js\\..\\..\\README.md", ".hidden.js",
     "js/.secret.js", "index.html\x00.js", "README", "js/", "js//inbox.js", "./index.html", "js"],
)
def test_static_file_refuses_unsafe_names(relative):
    assert static_file(STATIC_ROOT, relative) is None


def test_static_file_refuses_a_link_that_leaves_the_root(tmp_path: Path):
    root = tmp_path / "console"
    root.mkdir()
    (tmp_path / "secret.js").write_text("secret")
    (root / "escape.js").symlink_to(tmp_path / "secret.js")
    (root / "ok.js").write_text("ok")
    assert static_file(root, "escape.js") is None
    assert static_file(root, "ok.js") == (root / "ok.js").resolve()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/console/simulator"),
        ("get", "/console/js/simulator.js"),
        ("get", "/console/simulator.html"),
        ("get", f"/console/simulator/api/messages?wa_id={CUSTOMER}"),
        ("post", "/console/simulator/api/messages"),
    ],
)
@pytest.mark.parametrize("setting", ["unset", "false", "true-with-graph-token"])
async def test_simulator_answers_404_unless_enabled_on_embedded_settings(monkeypatch, method, path, setting):
    if setting == "false":
        monkeypatch.setenv("SIMULATOR_ENABLED", "false")
    if setting == "true-with-graph-token":
        monkeypatch.setenv("SIMULATOR_ENABLED", "true")
        monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "real-token")
        monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    reset_settings_cache()
    app = make_app(ConsoleInput())
    if method == "get":
        response = await get(app, path)
    else:
        response = await post_json(app, path, {"wa_id": CUSTOMER, "text": "hi"})
    assert response.status == 404 and response.json["error"] == "not_found"


async def test_simulator_page_when_enabled(simulator_on):
    response = await get(make_app(ConsoleInput()), "/console/simulator")
    assert response.status == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert b"simulator.js" in response.body


async def test_customer_message_is_posted_signed_in_the_webhook_shape(simulator_on):
    with RecordingWebhook() as webhook:
        console = ConsoleInput(webhook_url=f"{webhook.url}/webhooks/whatsapp/webhook")
        response = await post_json(make_app(console), "/console/simulator/api/messages",
                                   {"wa_id": CUSTOMER, "name": "Kerry Fisher", "text": "I want to talk to a person"})
        assert response.status == 202
        [request] = webhook.wait_for_requests(1)
    assert request.headers["Content-Type"] == "application/json"
    assert check_signature(request.body, request.headers["X-Hub-Signature-256"], APP_SECRET) is SignatureCheck.VALID
    [message] = parse_webhook(request.body).messages
    assert (message.wamid, message.customer_id, message.profile_name, message.text, message.phone_number_id) == (
        response.json["wamid"], CUSTOMER, "Kerry Fisher", "I want to talk to a person", PHONE_NUMBER_ID)


async def test_button_reply_is_posted_as_an_interactive_reply(simulator_on):
    with RecordingWebhook() as webhook:
        console = ConsoleInput(webhook_url=f"{webhook.url}/webhooks/whatsapp/webhook")
        response = await post_json(make_app(console), "/console/simulator/api/messages",
                                   {"wa_id": CUSTOMER, "reply": {"id": "/request_human", "title": "Talk to a person"}})
        assert response.status == 202
        [request] = webhook.wait_for_requests(1)
    [message] = parse_webhook(request.body).messages
    assert (message.reply.type, message.reply.id, message.user_text) == ("button_reply", "/request_human", "/request_human")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "malformed_json"),
        (b"[1, 2]", "malformed_json"),
        ({"wa_id": "abc", "text": "hi"}, "invalid_wa_id"),
        ({"wa_id": CUSTOMER, "text": ""}, "empty_text"),
    ],
)
async def test_bad_simulator_input_is_400(simulator_on, body, code):
    response = await post_json(make_app(ConsoleInput(webhook_url="http://127.0.0.1:9/unused")),
                               "/console/simulator/api/messages", body)
    assert (response.status, response.json["error"]) == (400, code)


async def test_without_an_app_secret_nothing_can_be_signed(simulator_on, monkeypatch):
    monkeypatch.delenv("WHATSAPP_APP_SECRET")
    reset_settings_cache()
    response = await post_json(make_app(ConsoleInput(webhook_url="http://127.0.0.1:9/unused")),
                               "/console/simulator/api/messages", {"wa_id": CUSTOMER, "text": "hi"})
    assert (response.status, response.json["error"]) == (503, "no_app_secret")


async def test_unreachable_webhook_is_502(simulator_on):
    with RecordingWebhook() as webhook:
        url = f"{webhook.url}/nowhere"  # the fake answers 404 there
        response = await post_json(make_app(ConsoleInput(webhook_url=url)), "/console/simulator/api/messages",
                                   {"wa_id": CUSTOMER, "text": "hi"})
    assert (response.status, response.json["error"]) == (502, "webhook_refused")


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "invalid_wa_id"), ("?wa_id=abc", "invalid_wa_id"), (f"?wa_id={CUSTOMER}&after=-1", "invalid_after"),
     (f"?wa_id={CUSTOMER}&after=x", "invalid_after")],
)
async def test_bad_reply_queries_are_400(simulator_on, query, code):
    response = await get(make_app(ConsoleInput()), f"/console/simulator/api/messages{query}")
    assert (response.status, response.json["error"]) == (400, code)


async def test_business_replies_are_listed_once_sent(simulator_on):
    database = get_runtime().database
    with database.transaction() as cursor:
        [first, second] = outbox.enqueue(cursor, [
            outbox.OutboxDraft(CUSTOMER, {"type": "text", "text": {"body": "Hi! 👋"}}, "bot", answers_wamid="wamid.A"),
            outbox.OutboxDraft(CUSTOMER, {"type": "interactive", "interactive": {"type": "button"}}, "bot",
                               answers_wamid="wamid.A", seq=1),
        ], 1795529100.0)
    outbox.finish(database, first, "logged")
    app = make_app(ConsoleInput())
    response = await get(app, f"/console/simulator/api/messages?wa_id={CUSTOMER}")
    assert response.status == 200 and response.headers["cache-control"] == "no-cache"
    assert response.json == {
        "messages": [{"id": first, "origin": "bot", "state": "logged", "created_at": "2026-11-24T14:05:00.000Z",
                      "message": {"type": "text", "text": {"body": "Hi! 👋"}}}],
        "after": first,
    }
    outbox.finish(database, second, "logged")
    response = await get(app, f"/console/simulator/api/messages?wa_id={CUSTOMER}&after={first}")
    assert [m["id"] for m in response.json["messages"]] == [second]


def test_simulator_reaches_the_real_webhook_on_its_own_socket(simulator_on):
    app = make_app(WhatsAppInput(process_messages=False), ConsoleInput())
    _, response = app.test_client.post(
        "/console/simulator/api/messages", content=json.dumps({"wa_id": CUSTOMER, "name": "Kerry", "text": "hello there"})
    )
    assert response.status == 202, response.text
    rows = get_runtime().database.execute("SELECT wamid, conversation_id FROM inbox_messages")
    assert [(row["wamid"], row["conversation_id"]) for row in rows] == [(response.json["wamid"], CUSTOMER)]
