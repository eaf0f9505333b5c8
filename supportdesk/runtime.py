"""The process-wide shared objects, built on first use (never at import) and replaceable in tests.

This is the composition root: it sits above every feature package and hands each lower layer
what it needs (database, Graph client, push sender, the dialogue loop and Rasa's Agent).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional

from supportdesk.messaging.dialogue_thread import DialogueThread
from supportdesk.messaging.tracker_bridge import bring_up_to_date, current_slots, full_history, take_turn
from supportdesk.messaging.wakeup import INBOX, OUTBOX, WakeSignals
from supportdesk.platform.database import Database
from supportdesk.platform.schema import migrate
from supportdesk.platform.settings import Settings, get_settings

if TYPE_CHECKING:
    from supportdesk.attendant.push import PushSender
    from supportdesk.media.store import MediaStore
    from supportdesk.whatsapp.graph_api import GraphApiClient


class Runtime:
    """Database, Graph API client and the wake-up hooks of this process's background loops."""

    def __init__(self, settings: Settings) -> None:
        from supportdesk.platform.retry_policy import RetryPolicy
        from supportdesk.whatsapp.graph_api import GraphApiClient

        self.settings = settings
        self.database = Database(settings.database_url)
        migrate(self.database)
        self.graph: Optional[GraphApiClient] = None
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
        self._push_sender: Optional[PushSender] = None
        self._media_store: Optional[MediaStore] = None
        self._dialogue: Optional[DialogueThread] = None
        self._dialogue_lock = threading.Lock()
        self.agent: Any = None
        self._wake_workers: List[Callable[[], None]] = []
        self._wake_senders: List[Callable[[], None]] = []
        self.signals = WakeSignals(self.database)  # the same wake-ups for the other processes and replicas

    @property
    def push_sender(self) -> PushSender:
        """FCM (or the log without FCM settings), built once so its OAuth token is reused."""
        if self._push_sender is None:
            from supportdesk.attendant.push import build_push_sender

            self._push_sender = build_push_sender(self.settings)
        return self._push_sender

    @property
    def media_store(self) -> MediaStore:
        """The media files' store named by `MEDIA_STORAGE_URL`, opened once (tests may assign one)."""
        if self._media_store is None:
            from supportdesk.media.store import open_media_store

            self._media_store = open_media_store(self.settings.media_storage_url)
        return self._media_store

    @media_store.setter
    def media_store(self, store: MediaStore) -> None:
        self._media_store = store

    @property
    def media_graph(self) -> Any:
        """What customers' media is downloaded through: the Graph client, else the simulator's stand-in, else None."""
        if self.graph is not None:
            return self.graph
        from supportdesk.console.simulator import simulator_active

        if simulator_active(self.settings):
            from supportdesk.console.simulator_media import SimulatorGraph

            return SimulatorGraph(self.media_store)
        return None

    @property
    def dialogue(self) -> DialogueThread:
        """The one loop that uses Rasa's Agent (started on first use)."""
        with self._dialogue_lock:
            if self._dialogue is None:
                self._dialogue = DialogueThread()
            return self._dialogue

    def bind_agent(self, agent: Any) -> None:
        """Remember the server's Rasa Agent (channels call this when the server starts)."""
        if agent is not None:
            self.agent = agent

    async def read_slots(self, conversation_id: str) -> Mapping[str, Any]:
        """The conversation's slot values, read on the dialogue loop; empty without an Agent."""
        if self.agent is None:
            return {}
        return await self.dialogue.run(current_slots(self.agent, conversation_id))

    async def tracker_history(self, conversation_id: str) -> Optional[List[Dict[str, Any]]]:
        """Every tracker event of the conversation as dicts, read on the dialogue loop; None without one."""
        if self.agent is None:
            return None
        return await self.dialogue.run(full_history(self.agent, conversation_id))

    async def take_turn(self, message: Any) -> None:
        """Catch the tracker up and run the dialogue turn for `message`, reading the tracker once."""
        await take_turn(self.agent, self.database, message)

    async def catch_up_tracker(self, conversation_id: str) -> int:
        """Bring the tracker in step with the database (call it on the dialogue loop)."""
        return await bring_up_to_date(self.agent, self.database, conversation_id)

    def attach(self, wake_worker: Callable[[], None], wake_sender: Callable[[], None]) -> None:
        """Register the background loops to wake when new work is stored."""
        self._wake_workers.append(wake_worker)
        self._wake_senders.append(wake_sender)

    def wake_worker(self) -> None:
        """New inbound messages were stored."""
        for wake in self._wake_workers:
            wake()
        self.signals.notify(INBOX)

    def wake_sender(self) -> None:
        """New outbound messages were queued."""
        for wake in self._wake_senders:
            wake()
        self.signals.notify(OUTBOX)

    async def close(self) -> None:
        """Close clients and pooled connections."""
        if self.graph is not None:
            await self.graph.close()
        self.stop_dialogue()
        self.signals.close()
        self.database.close()

    def stop_dialogue(self) -> None:
        """Stop the dialogue loop if it was started."""
        with self._dialogue_lock:
            if self._dialogue is not None:
                self._dialogue.stop()
                self._dialogue = None


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
            _runtime.stop_dialogue()
            _runtime.database.close()
        _runtime = None
