"""WhatsApp Cloud API channel for Rasa: `/webhooks/whatsapp/webhook`.

The webhook only verifies, stores and acknowledges; a background worker runs the dialogue
and an outbox sender delivers the replies. Register it in `credentials.yml` as
`channels.whatsapp.WhatsAppInput:` (every key optional; settings fill the gaps).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.messaging import outbox, wakeup
from supportdesk.messaging.conversations import load_conversation
from supportdesk.messaging.inbox_worker import InboxWorker
from supportdesk.messaging.ingest_batch import DeliveryBatcher
from supportdesk.messaging.outbox_sender import OutboxSender
from supportdesk.messaging.turn_processor import CHANNEL_NAME, drafts_for_replies
from supportdesk.platform.database import DatabaseUnavailable
from supportdesk.platform.http_errors import error_response
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.request_body import BodyTooLarge, read_body
from supportdesk.platform.settings import get_settings
from supportdesk.processes.dialogue import turn_processor
from supportdesk.runtime import Runtime, get_runtime
from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.payload import MalformedPayload, WebhookDelivery, parse_webhook
from supportdesk.whatsapp.signature import SignatureCheck, check_signature, subscription_challenge

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024  # CONTRACT: a batch of up to 1000 updates stays below this


class WhatsAppOutput(OutputChannel):
    """Queues messages for one customer in the outbox (used outside customer turns)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @classmethod
    def name(cls) -> Text:
        """Channel name, as in `credentials.yml`."""
        return CHANNEL_NAME

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Render the message for WhatsApp and queue it."""
        database = self._runtime.database
        conversation = await database.run(load_conversation, database, recipient_id)
        drafts = drafts_for_replies(recipient_id, None, [dict(message)], conversation.language if conversation else None)
        await database.run(_enqueue, database, drafts)
        self._runtime.wake_sender()

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Queue a plain text message."""
        await self.send_response(recipient_id, {"text": text, **kwargs})


def _enqueue(database: Any, drafts: List[outbox.OutboxDraft]) -> None:
    with database.transaction() as cursor:
        outbox.enqueue(cursor, drafts, time.time())


@dataclasses.dataclass(frozen=True)
class WhatsAppOptions:
    """Credentials of the channel; None means 'use the setting'."""

    verify_token: Optional[str] = None
    app_secret: Optional[str] = None
    phone_number_id: Optional[str] = None


class WhatsAppInput(InputChannel):
    """Receives Cloud API webhooks; `process_messages=False` stores without running dialogue."""

    @classmethod
    def name(cls) -> Text:
        """URL segment: `/webhooks/whatsapp/...`."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Map `credentials.yml` keys to arguments; unset keys fall back to settings."""
        credentials = credentials or {}
        return cls(
            verify_token=credentials.get("verify_token"),
            app_secret=credentials.get("app_secret"),
            phone_number_id=credentials.get("phone_number_id"),
        )

    def __init__(
        self,
        verify_token: Optional[str] = None,
        app_secret: Optional[str] = None,
        phone_number_id: Optional[str] = None,
        process_messages: bool = True,
    ) -> None:
        settings = get_settings()
        self.options = WhatsAppOptions(
            verify_token=verify_token or settings.whatsapp_verify_token,
            app_secret=app_secret or settings.whatsapp_app_secret,
            phone_number_id=phone_number_id or settings.whatsapp_phone_number_id,
        )
        self.process_messages = process_messages
        self._workers: Optional[_Workers] = None
        self._stopping = False
        self._deliveries: Optional[DeliveryBatcher] = None
        self._deliveries_database: Any = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Messages Rasa sends outside a turn are queued like every reply."""
        return WhatsAppOutput(get_runtime())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Health, verification and delivery routes, and the background workers' lifecycle."""
        webhook = Blueprint(f"whatsapp_webhook_{uuid.uuid4().hex[:8]}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            query = {key: request.args.get(key) for key in request.args}
            challenge = subscription_challenge(query, self.options.verify_token)
            if challenge is None:
                logger.warning("whatsapp.verification.rejected")
                return response.text("Forbidden", status=403)
            logger.info("whatsapp.verification.accepted")
            return response.text(challenge, status=200, content_type="text/plain")

        @webhook.route("/webhook", methods=["POST"], stream=True)  # the handler reads the body, with its limit
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request)

        @webhook.listener("before_server_start")
        async def cap_request_size(app: Any, _: Any) -> None:
            """Every other route of the server (Rasa's `rasa run` app included) buffers at most this much."""
            app.config.REQUEST_MAX_SIZE = get_settings().server_max_body_bytes

        @webhook.listener("after_server_start")
        async def start_workers(app: Any, _: Any) -> None:
            self._stopping = False
            if self.process_messages:
                self._workers = await _Workers.start(get_runtime(), on_new_message, app)

        @webhook.listener("before_server_stop")
        async def stop_workers(_: Any, __: Any) -> None:
            self._stopping = True  # new deliveries get 503 so Meta retries them on another replica
            if self._workers is not None:
                await self._workers.stop()

        @webhook.listener("after_server_stop")
        async def close_runtime(_: Any, __: Any) -> None:
            await get_runtime().close()  # Graph client, dialogue loop, pooled connections

        return webhook

    async def _receive(self, request: Request) -> HTTPResponse:
        started = time.perf_counter()
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge as refused:
            logger.warning("whatsapp.delivery.rejected", extra={"reason": "too_large", "declared": refused.declared})
            return error_response(413, "payload_too_large", "The body is larger than 4 MiB.")
        check = check_signature(body, request.headers.get("X-Hub-Signature-256"), self.options.app_secret)
        if check is SignatureCheck.MISSING:
            logger.warning("whatsapp.delivery.rejected", extra={"reason": "signature_missing"})
            return error_response(401, "signature_missing", "X-Hub-Signature-256 is required.")
        if check is SignatureCheck.MISMATCH:
            logger.warning("whatsapp.delivery.rejected", extra={"reason": "signature_mismatch"})
            return error_response(403, "signature_invalid", "X-Hub-Signature-256 does not match the body.")
        received_at = time.time()
        try:
            delivery = parse_webhook(body, received_at)
        except MalformedPayload as error:
            logger.warning("whatsapp.delivery.rejected", extra={"reason": "malformed", "detail": str(error)})
            return error_response(400, "malformed_payload", str(error))
        return await self._store(self._for_our_number(delivery), received_at, started)

    def _batcher(self, runtime: Runtime) -> DeliveryBatcher:
        """The group commit of this server's loop, on the runtime's database."""
        if self._deliveries is None or self._deliveries_database is not runtime.database:
            batcher = DeliveryBatcher(runtime.database, runtime.wake_worker)  # one wake-up per commit
            self._deliveries, self._deliveries_database = batcher, runtime.database
        return self._deliveries

    def _for_our_number(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """Drop messages addressed to another business number served by the same app."""
        ours = self.options.phone_number_id
        if not ours:
            return delivery
        kept = tuple(m for m in delivery.messages if not m.phone_number_id or m.phone_number_id == ours)
        if len(kept) == len(delivery.messages):
            return delivery
        logger.info("whatsapp.delivery.other_number", extra={"ignored": len(delivery.messages) - len(kept)})
        return dataclasses.replace(delivery, messages=kept)

    async def _store(self, delivery: WebhookDelivery, received_at: float, started: float) -> HTTPResponse:
        if self._stopping:
            return error_response(503, "shutting_down", "This replica is stopping; retry.")
        try:
            runtime = get_runtime()
            stored = await self._batcher(runtime).store(delivery, received_at)  # one commit for concurrent POSTs
        except DatabaseUnavailable:
            logger.error("whatsapp.delivery.store_failed", extra={"messages": len(delivery.messages)})
            return error_response(503, "storage_unavailable", "Could not store the delivery; retry later.")
        except Exception:
            logger.exception("whatsapp.delivery.store_failed")
            return error_response(503, "storage_unavailable", "Could not store the delivery; retry later.")
        for error in delivery.errors:
            logger.warning("whatsapp.webhook.error", extra={"code": error.code, "title": error.title})
        logger.info(
            "whatsapp.delivery.accepted",
            extra={
                "new": len(stored.new_wamids),
                "duplicates": stored.duplicates,
                "statuses": stored.statuses,
                "ignored_fields": ",".join(delivery.ignored_fields),
                "customers": ",".join(sorted({mask_phone(m.customer_id) for m in delivery.messages})),
                "ack_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response.json({"status": "received", "new": len(stored.new_wamids), "duplicates": stored.duplicates})


class _Workers:
    """The outbox sender (on the server loop) and, unless the dialogue runs in worker processes, the inbox worker.

    Under `rasa run` the dialogue turns run in this process, on the runtime's dialogue thread
    (`DialogueThread`), the one loop that uses Rasa's Agent, so the server's loop only verifies,
    stores, acknowledges and sends. The web process (`supportdesk.processes.web`) sets
    `app.ctx.dialogue_in_workers`: its turns run in `supportdesk.processes.dialogue_worker`.
    """

    def __init__(self, runtime: Runtime, sender: OutboxSender, sender_task: asyncio.Task) -> None:
        self.runtime = runtime
        self.sender = sender
        self.sender_task = sender_task
        self.worker: Optional[InboxWorker] = None
        self.receipts: Optional[GraphApiClient] = None
        self.listeners: List[wakeup.Listener] = []

    @classmethod
    async def start(cls, runtime: Runtime, on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any) -> _Workers:
        """Build and start the sender here and, with the dialogue in this process, the worker on the dialogue loop."""
        owner = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        settings = runtime.settings
        runtime.bind_agent(getattr(app.ctx, "agent", None))
        sender = OutboxSender(
            runtime.database,
            runtime.graph,
            runtime.retry_policy,
            owner,
            lease_seconds=2 * settings.graph_timeout_seconds + 5,
        )
        workers = cls(runtime, sender, asyncio.create_task(sender.run()))
        workers.listeners.append(await runtime.signals.listen(wakeup.OUTBOX, sender.wake))
        if getattr(app.ctx, "dialogue_in_workers", False):
            runtime.attach(lambda: None, sender.wake)  # the workers hear of new messages through `runtime.signals`
        else:
            await workers._start_dialogue(owner)  # Rasa's `on_new_message` is `agent.handle_message`: runtime.take_turn
        logger.info("whatsapp.workers.started", extra={"owner": owner, "dialogue": workers.worker is not None})
        return workers

    async def _start_dialogue(self, owner: str) -> None:
        runtime, settings, sender = self.runtime, self.runtime.settings, self.sender
        server_loop = asyncio.get_running_loop()
        dialogue = runtime.dialogue
        # aiohttp sessions belong to one loop: the dialogue loop has its own client for read receipts.
        self.receipts = (
            GraphApiClient(settings.whatsapp_api_url, settings.whatsapp_phone_number_id,
                           settings.whatsapp_access_token, settings.graph_timeout_seconds)
            if runtime.graph is not None
            else None
        )
        processor = turn_processor(runtime, self.receipts, lambda: server_loop.call_soon_threadsafe(sender.wake))
        self.worker = InboxWorker(runtime.database, processor.process, owner)
        worker = self.worker
        dialogue.submit(worker.run())
        runtime.attach(lambda: dialogue.call_soon(worker.wake), sender.wake)
        # Other replicas on this database store messages too: their wake-ups reach this worker.
        self.listeners.append(await dialogue.run(runtime.signals.listen(wakeup.INBOX, worker.wake)))

    async def stop(self) -> None:
        """Finish conversations in progress (or hand them back), then stop the sender."""
        dialogue = self.runtime.dialogue if self.worker is not None else None
        for listener in self.listeners[1:]:
            await dialogue.run(listener.close())
        await self.listeners[0].close()
        if self.worker is not None:
            await dialogue.run(self.worker.stop())
        if self.receipts is not None:
            await dialogue.run(self.receipts.close())
        self.sender.stop()
        await asyncio.wait([self.sender_task], timeout=10)
