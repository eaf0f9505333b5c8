"""The browser console: the attendant inbox at `/console/` and the WhatsApp simulator.

Register in `credentials.yml` as `channels.console.ConsoleInput:`. The inbox is static files
from `console/` that talk only to the public attendant API. The simulator (`/console/simulator`)
exists only when `SIMULATOR_ENABLED=true` on embedded settings; its API posts signed webhooks
to this service's own `/webhooks/whatsapp/webhook` and reads what the outbox sent back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.attendant.multipart import MalformedForm, parse_form
from supportdesk.console import simulator, simulator_media
from supportdesk.media.records import load_media
from supportdesk.media.store import MediaNotFound
from supportdesk.platform import http_errors
from supportdesk.platform.database import DatabaseUnavailable
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.request_body import BodyTooLarge, read_body
from supportdesk.platform.settings import get_settings
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.limits import MEDIA_MAX
from supportdesk.whatsapp.signature import sign

logger = logging.getLogger(__name__)

STATIC_ROOT = Path(__file__).resolve().parent.parent / "console"
URL_PREFIX = "/console"  # absolute: Rasa's urljoin("/webhooks/", ...) then keeps it as is
MAX_BODY_BYTES = 64 * 1024
WEBHOOK_TIMEOUT_SECONDS = 10.0
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
SIMULATOR_FILE_PREFIX = "simulator"


def error_response(status: int, code: str, message: str) -> HTTPResponse:
    """The project's error body, with the console's headers."""
    return http_errors.error_response(status, code, message, SECURITY_HEADERS)


def static_file(root: Path, relative: str) -> Optional[Path]:
    """The file under `root` that `relative` names, or None when it is not a servable file.

    Refuses anything that could leave `root` or reveal more than the published files:
    `..`, absolute paths, backslashes, NUL, hidden names and unknown extensions.
    """
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    if PurePosixPath(relative).suffix.lower() not in CONTENT_TYPES:
        return None
    base = root.resolve()
    candidate = (base / Path(*parts)).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


class ConsoleInput(InputChannel):
    """Serves the console's files and, when enabled, the simulator's API."""

    @classmethod
    def name(cls) -> Text:
        """Channel name as in `credentials.yml`."""
        return "console"

    def url_prefix(self) -> Text:
        """Mounted at `/console`, not under `/webhooks/`: it is a page for people."""
        return URL_PREFIX

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Optional `webhook_url`: where the simulator posts (default: this server's own address)."""
        return cls(webhook_url=(credentials or {}).get("webhook_url"))

    def __init__(self, static_root: Optional[Path] = None, webhook_url: Optional[str] = None) -> None:
        self.static_root = static_root or STATIC_ROOT
        self.webhook_url = webhook_url

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Inbox, simulator page and simulator API routes."""
        console = http_errors.ChannelBlueprint(f"console_{uuid.uuid4().hex[:8]}", SECURITY_HEADERS)

        @console.route("/", methods=["GET", "HEAD"])
        async def inbox(_: Request) -> HTTPResponse:
            # Sanic files "/console/" under the path route below; bare "/console" gets the slash.
            return response.redirect(f"{URL_PREFIX}/", headers=dict(SECURITY_HEADERS))

        @console.route("/simulator", methods=["GET", "HEAD"])
        async def simulator_page(_: Request) -> HTTPResponse:
            if not simulator.simulator_active(get_settings()):
                return _simulator_off()
            return await self._serve("simulator.html")

        @console.route("/simulator/api/messages", methods=["POST"])
        async def customer_writes(request: Request) -> HTTPResponse:
            if not simulator.simulator_active(get_settings()):
                return _simulator_off()
            return await self._customer_writes(request)

        @console.route("/simulator/api/messages", methods=["GET"])
        async def business_replies(request: Request) -> HTTPResponse:
            if not simulator.simulator_active(get_settings()):
                return _simulator_off()
            return await self._business_replies(request)

        @console.route("/simulator/api/media", methods=["POST"], stream=True)  # reads its own body, up to MEDIA_MAX
        async def customer_sends_a_file(request: Request) -> HTTPResponse:
            if not simulator.simulator_active(get_settings()):
                return _simulator_off()
            return await self._customer_sends_a_file(request)

        @console.route("/simulator/api/media/<media_id>", methods=["GET"])
        async def reply_file(_: Request, media_id: str) -> HTTPResponse:
            if not simulator.simulator_active(get_settings()):
                return _simulator_off()
            return await self._reply_file(media_id)

        @console.route("/<relative:path>", methods=["GET", "HEAD"])
        async def files(_: Request, relative: str) -> HTTPResponse:
            if relative == "":
                return await self._serve("index.html")
            name = PurePosixPath(relative).name
            if name.startswith(SIMULATOR_FILE_PREFIX) and not simulator.simulator_active(get_settings()):
                return _simulator_off()
            return await self._serve(relative)

        return console

    async def _serve(self, relative: str) -> HTTPResponse:
        found = await asyncio.to_thread(static_file, self.static_root, relative)  # stat calls off the loop
        if found is None:
            return error_response(404, "not_found", "No such console file.")
        mime_type = CONTENT_TYPES[found.suffix.lower()]
        return await response.file(found, mime_type=mime_type, headers=dict(SECURITY_HEADERS))

    async def _customer_writes(self, request: Request) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return error_response(413, "payload_too_large", "The body is larger than 64 KiB.")
        try:
            message = simulator.parse_customer_message(http_errors.json_object(body))
        except simulator.InvalidSimulatorMessage as invalid:
            return error_response(400, invalid.code, str(invalid))
        except http_errors.MalformedJson as malformed:
            return error_response(400, "malformed_json", str(malformed))
        return await self._post_webhook(request, message)

    async def _customer_sends_a_file(self, request: Request) -> HTTPResponse:
        """A photo, voice note or file from the simulated customer: kept for SimulatorGraph, announced by webhook."""
        try:  # stream=True: this handler's ceiling, not SERVER_MAX_BODY_BYTES
            body = await read_body(request, simulator_media.UPLOAD_BODY_MAX)
        except BodyTooLarge:
            return error_response(413, "payload_too_large", f"The file is larger than WhatsApp's largest ({MEDIA_MAX} bytes).")
        try:
            fields, files = parse_form(body, request.headers.get("Content-Type"))
            message = simulator.parse_customer_message({**fields, "text": "-"})  # checks wa_id and name
            upload = files.get("file")
            if upload is None:
                raise simulator_media.InvalidSimulatorMedia("no_file", "Attach the file as the form field `file`.")
            file = await asyncio.to_thread(
                simulator_media.save_customer_file, get_runtime().media_store, upload.data, upload.content_type,
                upload.filename, fields.get("caption"), fields.get("voice") == "true",
            )
        except MalformedForm as malformed:
            return error_response(400, "malformed_form", f"Send multipart/form-data: {malformed}.")
        except (simulator.InvalidSimulatorMessage, simulator_media.InvalidSimulatorMedia) as invalid:
            return error_response(400, invalid.code, str(invalid))
        return await self._post_webhook(request, message, simulator_media.webhook_content(file))

    async def _reply_file(self, media_id: str) -> HTTPResponse:
        """The bytes of a file an attendant sent (what the customer's phone would show)."""
        runtime = get_runtime()
        try:
            record = await runtime.database.run(load_media, runtime.database, media_id)
            if record is None or record.direction != "attendant" or record.status != "stored" or not record.storage_key:
                return error_response(404, "not_found", "No file an attendant sent has that id.")
            data = await asyncio.to_thread(runtime.media_store.read, record.storage_key)
        except MediaNotFound:
            return error_response(404, "not_found", "The file is no longer kept.")
        except DatabaseUnavailable:
            return error_response(503, "storage_unavailable", "The database is unavailable; retry shortly.")
        content_type = record.mime_type or "application/octet-stream"
        return response.raw(data, content_type=content_type, headers=dict(SECURITY_HEADERS))

    async def _post_webhook(
        self, request: Request, message: simulator.CustomerMessage, content: Optional[Dict[str, Any]] = None
    ) -> HTTPResponse:
        """Sign and post the webhook Meta would send for `message` (with `content` for media) to our own webhook."""
        settings = get_settings()
        if not settings.whatsapp_app_secret:
            return error_response(503, "no_app_secret", "WHATSAPP_APP_SECRET is not set, so no webhook can be signed.")
        wamid = simulator.new_wamid()
        payload = simulator.encode_body(
            simulator.build_webhook_body(message, settings.whatsapp_phone_number_id, wamid, content=content)
        )
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(payload, settings.whatsapp_app_secret)}
        url = self.webhook_url or _own_webhook_url(request)
        try:
            timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, data=payload, headers=headers) as answer:
                    status, answer_text = answer.status, await answer.text()
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            logger.warning("simulator.webhook.unreachable", extra={"error": type(error).__name__})
            return error_response(502, "webhook_unreachable", "The WhatsApp webhook could not be reached.")
        logger.info("simulator.message.posted", extra={"customer": mask_phone(message.wa_id), "status": status})
        if status != 200:
            return error_response(502, "webhook_refused", f"The WhatsApp webhook answered {status}: {answer_text[:200]}")
        return response.json({"wamid": wamid, "webhook_status": status}, status=202, headers=dict(SECURITY_HEADERS))

    async def _business_replies(self, request: Request) -> HTTPResponse:
        wa_id = request.args.get("wa_id")
        if not simulator.valid_wa_id(wa_id):
            return error_response(400, "invalid_wa_id", "wa_id must be 6 to 15 digits.")
        raw_after = request.args.get("after") or "0"
        if not raw_after.isdigit():
            return error_response(400, "invalid_after", "after must be an outbox message id.")
        database = get_runtime().database
        try:
            shown, cursor = await database.run(simulator.outbound_messages, database, wa_id, int(raw_after))
            media = await database.run(simulator_media.reply_media, database, wa_id, [row["id"] for row in shown])
            shown = simulator_media.with_reply_media(shown, media)
        except DatabaseUnavailable:
            return error_response(503, "storage_unavailable", "The database is unavailable; retry shortly.")
        return response.json({"messages": shown, "after": cursor}, headers=dict(SECURITY_HEADERS))


def _simulator_off() -> HTTPResponse:
    return error_response(404, "not_found", "The simulator is off (SIMULATOR_ENABLED=true on embedded settings).")


def _own_webhook_url(request: Request) -> str:
    """The WhatsApp webhook on the socket this request came in on (loopback when bound to all)."""
    sockname = getattr(request.conn_info, "sockname", None)
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        host, port = sockname[0], sockname[1]
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{simulator.WEBHOOK_PATH}"
    return f"{request.scheme}://{request.host}{simulator.WEBHOOK_PATH}"
