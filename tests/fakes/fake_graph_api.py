"""A fake WhatsApp Cloud API (Graph API) on loopback: sends, read receipts, media lookups.

Answers have the fixtures' shapes: sends get `{messaging_product, contacts, messages: [{id}]}`
with unique wamids, read/typing requests `{"success": true}`, media ids the media lookup body.
A wrong bearer token gets Graph's 401 (code 190). Script errors with any `send_error_*.json`
fixture (`script_error`), slow answers (`script_delay`) or a 500 with a non-JSON body.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any, Dict, List

from aiohttp import web

from tests.fakes.server import LoopbackServer, ScriptedAnswer
from tests.fixture_files import fixture_bytes

FAKE_ACCESS_TOKEN = "EAAGfakegraphtoken0123456789abcdef"
SEND = "send"  # route key for scripted answers to POST .../messages (sends and read receipts alike)
TOKEN_ERROR = {
    "error": {
        "message": "Error validating access token: Session has expired.",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 463,
        "fbtrace_id": "AfakeTraceForBadToken",
    }
}


class FakeGraphApi(LoopbackServer):
    """`POST [/{version}]/{phone_number_id}/messages` and `GET [/{version}]/{media_id}`."""

    def __init__(self, access_token: str = FAKE_ACCESS_TOKEN) -> None:
        super().__init__()
        self.access_token = access_token
        self._ids = itertools.count(1)
        self.send_times: List[float] = []

    def routes(self, app: web.Application) -> None:
        """With or without a version segment, as the client is configured."""
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        app.router.add_post("/{phone}/messages", self._messages)
        app.router.add_get("/{version}/{media}", self._media)
        app.router.add_get("/{media}", self._media)

    def script_error(self, fixture: str, status: int = 400, times: int = 1) -> None:
        """The next `times` calls answer with that error fixture."""
        body = json.loads(fixture_bytes(fixture))
        self.script(SEND, *[ScriptedAnswer(status, body) for _ in range(times)])

    def script_delay(self, seconds: float, times: int = 1) -> None:
        """The next `times` calls answer normally but only after `seconds`."""
        self.script(SEND, *[ScriptedAnswer(200, None, delay=seconds) for _ in range(times)])

    def script_server_error(self, times: int = 1) -> None:
        """The next `times` calls get a 500 whose body is not JSON."""
        self.script(SEND, *[ScriptedAnswer(500, b"<html>Internal Server Error</html>") for _ in range(times)])

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _messages(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        if not self._authorized(request):
            return web.json_response(TOKEN_ERROR, status=401)
        scripted = self.next_scripted(SEND)
        if scripted is not None and scripted.body is not None:
            return await self.answer(scripted)
        if scripted is not None:
            await self.answer(ScriptedAnswer(200, {}, delay=scripted.delay))
        try:
            body = recorded.json()
        except ValueError:
            return web.json_response(_invalid("Request body is not JSON"), status=400)
        if body.get("messaging_product") != "whatsapp":
            return web.json_response(_invalid("messaging_product must be whatsapp"), status=400)
        if body.get("status") == "read":
            return web.json_response({"success": True})
        to = body.get("to")
        if not to or body.get("type") not in body:
            return web.json_response(_invalid("to and a body for the message type are required"), status=400)
        with self._lock:
            self.send_times.append(time.monotonic())
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.FAKE{next(self._ids):08d}"}],
            }
        )

    async def _media(self, request: web.Request) -> web.Response:
        await self.record(request)
        if not self._authorized(request):
            return web.json_response(TOKEN_ERROR, status=401)
        body = json.loads(fixture_bytes("media_get_response.json"))
        body["id"] = request.match_info["media"]
        return web.json_response(body)

    def sent_messages(self) -> List[Dict[str, Any]]:
        """Bodies of accepted-or-not message sends (read receipts excluded), in arrival order."""
        with self._lock:
            requests = list(self.requests)
        bodies = []
        for request in requests:
            if request.method != "POST":
                continue
            try:
                body = request.json()
            except ValueError:
                continue
            if body.get("status") != "read":
                bodies.append(body)
        return bodies

    def read_receipts(self) -> List[Dict[str, Any]]:
        """Bodies of mark-read requests (with or without typing indicator)."""
        with self._lock:
            requests = list(self.requests)
        return [r.json() for r in requests if r.method == "POST" and r.body and r.json().get("status") == "read"]

    def wait_for_sends(self, count: int, timeout: float = 15.0) -> List[Dict[str, Any]]:
        """Block until `count` message sends arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent_messages()
            if len(sent) >= count:
                return sent
            time.sleep(0.05)
        raise TimeoutError(f"expected {count} sends, got {len(self.sent_messages())}")


def _invalid(message: str) -> Dict[str, Any]:
    return {"error": {"message": f"(#100) {message}", "type": "OAuthException", "code": 100, "fbtrace_id": "AfakeTrace100"}}
