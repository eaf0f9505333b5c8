"""One dialogue turn's wiring, shared by `rasa run` (dialogue in the server) and the worker processes."""

from __future__ import annotations

from typing import Any, Callable, List, Optional

from supportdesk.handoff.desk import tell_holder
from supportdesk.media.intake import MediaIntake
from supportdesk.media.transcription import Transcriber
from supportdesk.messaging.turn_processor import TurnProcessor
from supportdesk.runtime import Runtime
from supportdesk.whatsapp.graph_api import GraphApiClient

WORKER_CONVERSATIONS = 4  # conversations one worker process holds at once: the others claim the rest


def turn_processor(
    runtime: Runtime,
    receipts: Optional[GraphApiClient],
    on_queued: Callable[[], None],
) -> TurnProcessor:
    """A `TurnProcessor` on the runtime's database and Agent (call it on the loop that runs the turns)."""

    async def retrieve_events(conversation_id: str) -> List[Any]:
        tracker = await runtime.agent.tracker_store.retrieve(conversation_id)
        return list(tracker.events) if tracker else []

    # Media is downloaded (and voice notes transcribed) before the turn, with this loop's Graph client
    # (without one, the simulator's stand-in serves what the simulated customer sent: runtime.media_graph).
    downloads = receipts if receipts is not None else runtime.media_graph
    media = MediaIntake(runtime.database, runtime.media_store, downloads, runtime.retry_policy, Transcriber(runtime.settings))

    async def tell_holder_of(row: Any) -> None:
        await tell_holder(runtime.database, runtime.push_sender, row.conversation_id, await media.preview(row))

    return TurnProcessor(
        runtime.database,
        runtime.take_turn,  # the catch-up and the turn on one tracker read
        retrieve_events,
        None,
        receipts,
        on_queued,
        after_turn=tell_holder_of,
        default_language=runtime.settings.default_language,
        before_turn=media.before_turn,
    )
