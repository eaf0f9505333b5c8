"""A dialogue worker process: loads the model and runs the turns of stored messages; no HTTP.

    python -m supportdesk.processes.dialogue_worker --model models/current.tar.gz --endpoints endpoints.yml

Any number run beside the web process (`supportdesk.processes.web`): they take conversations
through the inbox's leases, are woken by the web process when a message is stored
(`supportdesk.messaging.wakeup`), and wake the web process's sender when replies are queued.
SIGTERM or SIGINT: conversations in progress finish (or are handed back), then the process ends.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import uuid
from typing import List, Optional

import uvloop

from supportdesk.messaging import wakeup
from supportdesk.messaging.inbox_worker import InboxWorker
from supportdesk.platform.settings import cores, get_settings
from supportdesk.platform.structured_logging import configure_process_logging
from supportdesk.processes.dialogue import WORKER_CONVERSATIONS, turn_processor
from supportdesk.processes.startup_heap import freeze_startup_heap
from supportdesk.runtime import get_runtime

logger = logging.getLogger("supportdesk.processes.dialogue_worker")  # not `__main__` under `python -m`

# A turn is throughput work, a webhook's 200 is latency work: where workers and the web process share cores
# (`make run`), the scheduler runs the web process first and the workers take every cycle it leaves
# (README Performance). In a container of its own a worker is alone and this changes nothing.
WORKER_NICENESS = 10


def size_tensorflow_pools(workers: int) -> int:
    """TensorFlow's thread pools sized to this worker's share of the cores (at least one thread); returns it.

    `DIALOGUE_WORKERS` (default: one per core) workers share the machine; each one's pools sized for
    every core put N x N threads on N cores, spinning for work they then wait for (README Performance).
    """
    import tensorflow as tf

    threads = max(1, cores() // max(1, workers))
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    return max(tf.config.threading.get_inter_op_parallelism_threads(), tf.config.threading.get_intra_op_parallelism_threads())


async def load_agent(model: str, endpoints_file: str) -> object:
    """Rasa's Agent with the model and the stores of `endpoints_file` (as `rasa run` builds it)."""
    from rasa.core.agent import load_agent as rasa_load_agent
    from rasa.core.utils import AvailableEndpoints

    agent = await rasa_load_agent(model_path=model, endpoints=AvailableEndpoints.read_endpoints(endpoints_file))
    if not agent.is_ready():
        raise SystemExit(f"no model could be loaded from {model}")
    return agent


async def serve(model: str, endpoints_file: str) -> None:
    """Run turns until SIGTERM/SIGINT."""
    runtime = get_runtime()
    tensorflow_threads = size_tensorflow_pools(runtime.settings.dialogue_workers)
    runtime.bind_agent(await load_agent(model, endpoints_file))
    freeze_startup_heap()  # the model and the domain are never collected; full passes skip them
    owner = f"{socket.gethostname()}-dialogue-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    processor = turn_processor(runtime, runtime.graph, runtime.wake_sender)
    worker = InboxWorker(runtime.database, processor.process, owner, max_conversations=WORKER_CONVERSATIONS)
    listener = await runtime.signals.listen(wakeup.INBOX, worker.wake)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stopping.set)
    task = asyncio.create_task(worker.run())
    logger.info(
        "dialogue.worker.started",
        extra={"owner": owner, "tensorflow_threads": tensorflow_threads, "event_loop": type(loop).__module__.split(".")[0]},
    )
    await stopping.wait()
    logger.info("dialogue.worker.stopping", extra={"owner": owner})
    await worker.stop()
    await asyncio.wait([task], timeout=5)
    await listener.close()
    await runtime.close()


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="models/current.tar.gz")
    parser.add_argument("--endpoints", default="endpoints.yml")
    args = parser.parse_args(argv)
    os.nice(WORKER_NICENESS)
    settings = get_settings()
    configure_process_logging(settings.log_level, settings.log_format)
    # uvloop, the loop Sanic runs the web process and `rasa run` on (cheaper thread hand-offs and sockets)
    uvloop.run(serve(args.model, args.endpoints))
    return 0


if __name__ == "__main__":
    sys.exit(main())
