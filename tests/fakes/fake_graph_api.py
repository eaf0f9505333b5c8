"""A fake WhatsApp Cloud API (Graph API) on loopback: sends, read receipts, typing, media lookups.

Template listing (`GET /{account}/message_templates`) pages `templates` two at a time.
Paths are accepted with or without a version segment (`fake.url` or `fake.url + "/v24.0"`).
Answers have the fixtures' shapes: sends get `{messaging_product, contacts, messages: [{id}]}`
with unique wamids, read/typing requests `{"success": true}`, media ids the body of
`media_get_response.json`, uploads (`POST .../media`, multipart, parsed by `uploads()`) a fresh
media id in the shape of `media_upload_response.json`. A wrong bearer token gets Graph's 401 (code 190, OAuthException).
Script the next answers per route (`SEND` or `MEDIA`) with any error fixture (`script_error`),
a slow answer (`script_delay`) or a 500 whose body is not JSON (`script_server_error`); Meta's
rate limits (130429 for the number, 131056 for one customer) come on demand for the sends to
one recipient (`script_rate_limit`), so concurrent sends to others are not affected.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.parser
import email.policy
import hashlib
import itertools
import json
import time
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from tests.fakes.server import LoopbackServer, RecordedRequest, ScriptedAnswer
from tests.fixture_files import fixture_bytes

FAKE_ACCESS_TOKEN = "EAAGfakegraphtoken0123456789abcdef"
SEND = "send"  # route key: POST .../messages (sends, read receipts and typing alike)
MEDIA = "media"  # route key: GET /{media_id}
UPLOAD = "upload"  # route key: POST /{phone_number_id}/media
TEMPLATES = "templates"  # route key: GET /{business_account_id}/message_templates
DOWNLOAD = "download"  # route key: GET /whatsapp_business/attachments/?mid= (the URL a media id's metadata gives)
DOWNLOAD_PATH = "/whatsapp_business/attachments/"  # lookaside.fbsbx.com's path, served by the fake itself
UPLOADED_MEDIA_ID_PREFIX = "10375432915"  # uploaded media ids look like the fixture's, unique per upload
TEMPLATES_PAGE_SIZE = 2  # small, so the fixture's three templates take two pages
TEXT_MAX = 4096
THROUGHPUT_LIMIT = 130429
PAIR_RATE_LIMIT = 131056
# Meta's texts for its rate-limit codes (message, error_data.details).
RATE_LIMIT_TEXTS = {
    THROUGHPUT_LIMIT: ("Rate limit hit", "Cloud API message throughput has been reached."),
    PAIR_RATE_LIMIT: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number "
        "to the same phone number in a short period of time.",
    ),
}
TOKEN_ERROR = {
    "error": {
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": "AfakeTraceForBadToken",
    }
}


def graph_error(code: int, message: str, details: Optional[str] = None) -> Dict[str, Any]:
    """A Graph error body as the Cloud API writes it."""
    error: Dict[str, Any] = {"message": f"(#{code}) {message}", "type": "OAuthException", "code": code}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = f"AfakeTrace{code}"
    return {"error": error}


class FakeGraphApi(LoopbackServer):
    """`POST [/{version}]/{phone_number_id}/messages` and `GET [/{version}]/{media_id}`; thread-safe."""

    def __init__(self, access_token: str = FAKE_ACCESS_TOKEN) -> None:
        super().__init__()
        self.access_token = access_token
        self.send_times: List[float] = []
        self.issued: Dict[str, Dict[str, Any]] = {}  # wamid -> the send body it answered
        self._ids = itertools.count(1)
        self.media_files: Dict[str, Tuple[bytes, str]] = {}  # media id -> (bytes, mime type), see `add_media`
        # The business's templates, approved or not (Meta lists all; the client keeps the approved).
        self.templates: List[Dict[str, Any]] = json.loads(fixture_bytes("message_templates_list_response.json"))["data"]

    def routes(self, app: web.Application) -> None:
        """With or without a version segment, as the client is configured."""
        app.router.add_post("/{version}/{phone}/messages", self.tracked(self._messages))
        app.router.add_post("/{phone}/messages", self.tracked(self._messages))
        app.router.add_post("/{version}/{phone}/media", self.tracked(self._upload))
        app.router.add_post("/{phone}/media", self.tracked(self._upload))
        app.router.add_get("/{version}/{account}/message_templates", self.tracked(self._templates))
        app.router.add_get("/{account}/message_templates", self.tracked(self._templates))
        app.router.add_get(DOWNLOAD_PATH, self.tracked(self._download))
        app.router.add_get("/{version}/{media}", self.tracked(self._media))
        app.router.add_get("/{media}", self.tracked(self._media))

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """Serve `data` for `media_id`: its metadata (hex sha256, size) and, at the URL it names, the bytes."""
        with self._lock:
            self.media_files[media_id] = (data, mime_type)

    def downloads(self) -> List[RecordedRequest]:
        """The media byte downloads received (answered or refused), in order."""
        with self._lock:
            return [request for request in self.requests if request.path == DOWNLOAD_PATH]

    # scripting
    def script_error(self, fixture: str, status: int = 400, times: int = 1, route: str = SEND) -> None:
        """The next `times` calls of `route` answer `status` with that error fixture's body."""
        body = json.loads(fixture_bytes(fixture))
        self.script(route, *[ScriptedAnswer(status, body) for _ in range(times)])

    def script_delay(self, seconds: float, times: int = 1, route: str = SEND) -> None:
        """The next `times` calls of `route` answer normally, but only after `seconds`."""
        self.script(route, *[ScriptedAnswer(200, None, delay=seconds) for _ in range(times)])

    def script_rate_limit(self, code: int, to: str, times: int = 1) -> None:
        """The next `times` sends to `to` answer 400 with Meta's 130429 or 131056 error."""
        message, details = RATE_LIMIT_TEXTS[code]
        self.script(f"{SEND}:{to}", *[ScriptedAnswer(400, graph_error(code, message, details)) for _ in range(times)])

    def script_server_error(self, times: int = 1, route: str = SEND) -> None:
        """The next `times` calls of `route` get a 500 whose body is HTML, not JSON."""
        page = b"<html><body>Internal Server Error</body></html>"
        self.script(route, *[ScriptedAnswer(500, page) for _ in range(times)])

    # what was received
    def sent_messages(self) -> List[Dict[str, Any]]:
        """Bodies of message sends (answered or refused; read receipts excluded), in arrival order."""
        with self._lock:
            return [body for body in _message_bodies(self.requests) if body.get("status") != "read"]

    def read_receipts(self) -> List[Dict[str, Any]]:
        """Bodies of mark-read requests (with or without typing indicator), in arrival order."""
        with self._lock:
            return [body for body in _message_bodies(self.requests) if body.get("status") == "read"]

    def media_requests(self) -> List[RecordedRequest]:
        """The media lookups received, in order."""
        with self._lock:
            return [
                request for request in self.requests
                if request.method == "GET" and not request.path.endswith("/message_templates")
            ]

    def uploads(self) -> List[Upload]:
        """The media uploads received (answered or refused), in order, with their form fields parsed."""
        with self._lock:
            return [_upload_of(request) for request in self.requests if request.path.endswith("/media")]

    def template_listings(self) -> List[RecordedRequest]:
        """The template list requests received (one per page), in order."""
        with self._lock:
            return [request for request in self.requests if request.path.endswith("/message_templates")]

    def wait_for_sends(self, count: int, timeout: float = 15.0) -> List[Dict[str, Any]]:
        """Block until `count` message sends arrived; returns their bodies or raises TimeoutError."""

        def sends() -> List[Dict[str, Any]]:  # called with the lock held
            return [body for body in _message_bodies(self.requests) if body.get("status") != "read"]

        with self._got_request:
            if not self._got_request.wait_for(lambda: len(sends()) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} sends, got {len(sends())}")
            return sends()

    async def wait_for_sends_async(self, count: int, timeout: float = 15.0) -> List[Dict[str, Any]]:
        """`wait_for_sends` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_for_sends, count, timeout)

    # handlers
    async def _scripted_answer(self, route: str) -> Optional[web.Response]:
        """The scripted answer for `route`, if any; a delay-only script just waits."""
        scripted = self.next_scripted(route)
        if scripted is None:
            return None
        if scripted.body is None:
            await asyncio.sleep(scripted.delay)
            return None
        if isinstance(scripted.body, bytes):
            await asyncio.sleep(scripted.delay)
            return web.Response(status=scripted.status, body=scripted.body, content_type="text/html")
        return await self.answer(scripted)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _messages(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        if not self._authorized(request):
            return web.json_response(TOKEN_ERROR, status=401)
        scripted = await self._scripted_answer(SEND)
        if scripted is not None:
            return scripted
        try:
            body = recorded.json()
        except ValueError:
            return web.json_response(graph_error(100, "Invalid parameter", "Request body is not JSON"), status=400)
        problem = _send_problem(body)
        if problem is not None:
            return web.json_response(problem, status=400)
        if body.get("status") == "read":
            return web.json_response({"success": True})
        for_recipient = self.next_scripted(f"{SEND}:{body['to']}")
        if for_recipient is not None:
            return await self.answer(for_recipient)
        with self._lock:
            wamid = f"wamid.FAKE{next(self._ids):08d}"
            self.issued[wamid] = body
            self.send_times.append(time.monotonic())
        to = body["to"]
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}
        )

    async def _upload(self, request: web.Request) -> web.Response:
        """Meta's upload: multipart `messaging_product=whatsapp`, `type` and `file`; answers `{"id"}`."""
        recorded = await self.record(request)
        if not self._authorized(request):
            return web.json_response(TOKEN_ERROR, status=401)
        scripted = await self._scripted_answer(UPLOAD)
        if scripted is not None:
            return scripted
        upload = _upload_of(recorded)
        if upload.messaging_product != "whatsapp" or not upload.type or upload.data is None:
            details = "messaging_product=whatsapp, type and file are required"
            return web.json_response(graph_error(100, "Invalid parameter", details), status=400)
        body = json.loads(fixture_bytes("media_upload_response.json"))
        with self._lock:
            body["id"] = f"{UPLOADED_MEDIA_ID_PREFIX}{next(self._ids):08d}"
        return web.json_response(body)

    async def _templates(self, request: web.Request) -> web.Response:
        """Meta's paging: `paging.cursors.after` always, `paging.next` only while more pages follow."""
        await self.record(request)
        if not self._authorized(request):
            return web.json_response(TOKEN_ERROR, status=401)
        scripted = await self._scripted_answer(TEMPLATES)
        if scripted is not None:
            return scripted
        after = request.query.get("after", "c0")
        start = int(after[1:]) if after[1:].isdigit() else 0
        page = self.templates[start:start + TEMPLATES_PAGE_SIZE]
        end = start + len(page)
        paging: Dict[str, Any] = {"cursors": {"before": f"c{start}", "after": f"c{end}"}}
        if end < len(self.templates):
            paging["next"] = f"{request.path}?after=c{end}"
        return web.json_response({"data": page, "paging": paging})

    async def _media(self, request: web.Request) -> web.Response:
        await self.record(request)
        if not self._authorized(request):
            return web.json_response(TOKEN_ERROR, status=401)
        scripted = await self._scripted_answer(MEDIA)
        if scripted is not None:
            return scripted
        body = json.loads(fixture_bytes("media_get_response.json"))
        media_id = body["id"] = request.match_info["media"]
        with self._lock:
            served = self.media_files.get(media_id)
        if served is not None:
            data, mime_type = served
            body.update(mime_type=mime_type, sha256=hashlib.sha256(data).hexdigest(), file_size=len(data))
        # Like Meta's lookaside URL (minutes-valid, token required), but on this fake: unknown ids answer 404 there.
        ext = int(time.time()) + 300
        body["url"] = f"{self.url}{DOWNLOAD_PATH}?mid={media_id}&ext={ext}&hash=ATfake{next(self._ids):06d}"
        return web.json_response(body)

    async def _download(self, request: web.Request) -> web.Response:
        """The bytes of `mid`; 401 without the token, 404 for an unknown (or expired, when scripted) URL."""
        await self.record(request)
        if not self._authorized(request):
            return web.Response(status=401, text="Unauthorized")
        scripted = await self._scripted_answer(DOWNLOAD)
        if scripted is not None:
            return scripted
        with self._lock:
            served = self.media_files.get(request.query.get("mid", ""))
        if served is None:
            return web.Response(status=404, text="Not Found")
        data, mime_type = served
        return web.Response(body=data, content_type=mime_type.split(";")[0].strip())


def _message_bodies(requests: List[RecordedRequest]) -> List[Dict[str, Any]]:
    """JSON object bodies of the POSTs among `requests` (others skipped)."""
    bodies = []
    for request in requests:
        if request.method != "POST":
            continue
        try:
            body = request.json()
        except ValueError:
            continue
        if isinstance(body, dict):
            bodies.append(body)
    return bodies


@dataclasses.dataclass(frozen=True)
class Upload:
    """One media upload as the fake parsed it: the form's fields and the file part."""

    messaging_product: Optional[str]
    type: Optional[str]
    data: Optional[bytes]
    filename: Optional[str]
    content_type: Optional[str]


def _upload_of(request: RecordedRequest) -> Upload:
    """The multipart form of an upload request, parsed as a server would."""
    head = f"Content-Type: {request.headers.get('Content-Type', '')}\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    fields: Dict[str, str] = {}
    data = filename = content_type = None
    for part in parsed.iter_parts() if parsed.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        if name == "file":
            data, filename, content_type = part.get_payload(decode=True), part.get_filename(), part.get_content_type()
        elif name:
            fields[name] = part.get_content().strip()
    return Upload(fields.get("messaging_product"), fields.get("type"), data, filename, content_type)


def _send_problem(body: Any) -> Optional[Dict[str, Any]]:
    """The error body real Graph would give a malformed send or read request, else None."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return graph_error(100, "Invalid parameter", "messaging_product must be whatsapp")
    if body.get("status") == "read":
        return None if body.get("message_id") else graph_error(100, "Invalid parameter", "message_id is required")
    kind = body.get("type")
    if not body.get("to") or not isinstance(body.get(kind), dict):
        return graph_error(131008, "Required parameter is missing", "to and a body for the message type are required")
    if kind == "text" and len(body["text"].get("body") or "") > TEXT_MAX:
        return json.loads(fixture_bytes("send_error_100_invalid_param.json"))
    return None
