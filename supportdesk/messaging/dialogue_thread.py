"""The one event loop that uses Rasa's Agent: dialogue turns, tracker reads and tracker writes.

Rasa runs NLU and policies synchronously inside `handle_message`; on the server's event loop
that would hold every webhook acknowledgement behind the current turn. The dialogue therefore
runs on a dedicated thread with its own event loop, and everything else that touches the
Agent (history reads, tracker writes) is handed to that loop too, so the Agent, its tracker
store and its lock store are only ever used from one loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Awaitable, Callable


class DialogueThread:
    """A daemon thread running its own event loop; started on construction."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dialogue", daemon=True)
        self._thread.start()

    def submit(self, coroutine: Awaitable[Any]) -> concurrent.futures.Future[Any]:
        """Start `coroutine` on the dialogue loop without waiting for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def run(self, coroutine: Awaitable[Any]) -> Any:
        """Run `coroutine` on the dialogue loop and wait for it from the caller's loop."""
        return await asyncio.wrap_future(self.submit(coroutine))

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the dialogue loop (thread-safe)."""
        self._loop.call_soon_threadsafe(callback)

    def stop(self) -> None:
        """Stop the loop; the thread ends."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
