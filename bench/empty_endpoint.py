"""The bench's floor: an endpoint that reads the webhook and answers 200 at once, nothing else.

    .venv/bin/python bench/empty_endpoint.py --port 5999

`bench/webhook_bench.py` sends it the same signed requests from the same client as it sends ours, in
the same run: its latencies are what the load generator, HTTP on loopback and Sanic cost by
themselves, the part of an acknowledgement no change to the service can remove.
"""

from __future__ import annotations

import argparse
import sys

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse


def build_app() -> Sanic:
    """One POST route at our webhook's path."""
    app = Sanic("empty_endpoint", configure_logging=False)

    @app.post("/webhooks/whatsapp/webhook")
    async def receive(request: Request) -> HTTPResponse:
        return response.json({"status": "received", "new": 1 if request.body else 0, "duplicates": 0})

    @app.get("/")
    async def ready(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return app


def main() -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    build_app().run(host="127.0.0.1", port=args.port, workers=1, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
