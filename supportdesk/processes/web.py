"""The web process: webhook ingestion, attendant API, stream, console and health, without the model.

    python -m supportdesk.processes.web --port 5005 --credentials credentials.yml \\
        --endpoints endpoints.yml --model models/current.tar.gz

It mounts the channels of `credentials.yml` under `/webhooks/` as `rasa run` does, but never
imports TensorFlow nor loads the model: only the model's domain (its `metadata.json`, for the
slots of stored trackers) and the tracker and lock stores. The dialogue runs in
`supportdesk.processes.dialogue_worker` processes, which this process wakes on every stored message.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from typing import Any, List, Optional

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.platform.database import leave_checkpoints_to_other_processes
from supportdesk.platform.settings import get_settings
from supportdesk.platform.structured_logging import configure_process_logging
from supportdesk.processes.startup_heap import freeze_startup_heap

MODEL_METADATA = "metadata.json"


def model_domain(model: str) -> Any:
    """The domain stored in a trained model archive (no model is loaded)."""
    from rasa.shared.core.domain import Domain

    with tarfile.open(model, "r:gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.lstrip("/") == MODEL_METADATA)
        metadata = json.load(archive.extractfile(member))
    return Domain.from_dict(metadata["domain"])


class IngestionAgent:
    """What the web routes use of Rasa's Agent: the model's domain and the stores; the turns run elsewhere."""

    def __init__(self, domain: Any, tracker_store: Any, lock_store: Any) -> None:
        self.domain = domain
        self.tracker_store = tracker_store
        self.lock_store = lock_store
        self.processor = None

    def is_ready(self) -> bool:
        """Ready once the domain is known (readiness's `model` check: the workers hold the model)."""
        return self.domain is not None

    async def handle_message(self, message: Any) -> None:
        """Never called: the WhatsApp channel stores messages, the dialogue workers answer them."""
        raise RuntimeError("the web process runs no dialogue turn")


def ingestion_agent(model: str, endpoints_file: str) -> IngestionAgent:
    """The stores of `endpoints_file` with the domain of `model`."""
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(endpoints_file)
    domain = model_domain(model)
    store = FailSafeTrackerStore(TrackerStore.create(endpoints.tracker_store, domain=domain))
    return IngestionAgent(domain, store, LockStore.create(endpoints.lock_store))


def build_app(credentials: str, agent: IngestionAgent) -> Sanic:
    """The Sanic app with every channel of `credentials` under `/webhooks/`."""
    from rasa.core.channels.channel import register

    app = Sanic("supportdesk_web", configure_logging=False)
    app.ctx.agent = agent
    app.ctx.dialogue_in_workers = True

    @app.get("/")
    async def hello(_: Request) -> HTTPResponse:
        return response.json({"process": "web"})

    register(input_channels(credentials), app, route="/webhooks/")
    return app


def input_channels(credentials: str) -> List[Any]:
    """The channels listed in `credentials` (`module.Class:` keys), built from their settings like `rasa run`."""
    from rasa.shared.utils.common import class_from_module_path
    from rasa.shared.utils.io import read_config_file

    return [class_from_module_path(name).from_credentials(values) for name, values in read_config_file(credentials).items()]


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interface", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--model", default="models/current.tar.gz")
    args = parser.parse_args(argv)
    leave_checkpoints_to_other_processes()  # before any connection opens: the workers copy the WAL back
    settings = get_settings()
    configure_process_logging(settings.log_level, settings.log_format)
    app = build_app(args.credentials, ingestion_agent(args.model, args.endpoints))
    freeze_startup_heap()
    app.run(host=args.interface, port=args.port, workers=1, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
