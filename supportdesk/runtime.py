"""The process-wide shared objects, built on first use (never at import) and replaceable in tests."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, List, Optional

from supportdesk.platform.database import Database
from supportdesk.platform.schema import migrate
from supportdesk.platform.settings import Settings, get_settings

if TYPE_CHECKING:
    from supportdesk.whatsapp.graph_api import GraphApiClient
    from supportdesk.attendant.push import PushSender


class Runtime:
    """Database, Graph API client and the wake-up hooks of this process's background loops."""

    def __init__(self, settings: Settings) -> None:
        from supportdesk.whatsapp.graph_api import GraphApiClient
        from supportdesk.platform.retry_policy import RetryPolicy

        self.settings = settings
        self.database = Database(settings.database_url)
        migrate(self.database)
        self.graph: Optional["GraphApiClient"] = None
        if settings.whatsapp_sending_enabled:
            self.graph = GraphApiClient(
                settings.whatsapp_api_url,
                settings.whatsapp_phone_number_id,
                settings.whatsapp_access_token,
                settings.graph_timeout_seconds,
            )
        self.retry_policy = RetryPolicy(
            settings.graph_max_attempts, settings.graph_backoff_base_seconds, settings.graph_backoff_cap_seconds
        )
        self._push_sender: Optional["PushSender"] = None
        self._wake_workers: List[Callable[[], None]] = []
        self._wake_senders: List[Callable[[], None]] = []

    @property
    def push_sender(self) -> "PushSender":
        """FCM (or the log without FCM settings), built once so its OAuth token is reused."""
        if self._push_sender is None:
            from supportdesk.attendant.push import build_push_sender

            self._push_sender = build_push_sender(self.settings)
        return self._push_sender

    def attach(self, wake_worker: Callable[[], None], wake_sender: Callable[[], None]) -> None:
        """Register the background loops to wake when new work is stored."""
        self._wake_workers.append(wake_worker)
        self._wake_senders.append(wake_sender)

    def wake_worker(self) -> None:
        """New inbound messages were stored."""
        for wake in self._wake_workers:
            wake()

    def wake_sender(self) -> None:
        """New outbound messages were queued."""
        for wake in self._wake_senders:
            wake()

    async def close(self) -> None:
        """Close clients and pooled connections."""
        if self.graph is not None:
            await self.graph.close()
        self.database.close()


_runtime: Optional[Runtime] = None
_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The runtime for the current settings, built once."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(get_settings())
        return _runtime


def reset_runtime() -> None:
    """Forget the runtime (tests build a fresh one per case)."""
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.database.close()
        _runtime = None
