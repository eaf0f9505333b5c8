"""Media pipeline timings: download (+ checks + store) per media type, and transcription, against the fakes.

    .venv/bin/python bench/media_bench.py [--runs 20]

Each fixture type (`tests/fixtures/whatsapp/inbound_*.json`) is fetched through the real Graph
client from the loopback fake Graph API (metadata, then the bytes at the URL it names), checked
(size, SHA-256) and stored in a file store, by `MediaIntake` as the worker runs it; voice notes
are then transcribed through the real openai client against the fake OpenAI. Sizes are typical
WhatsApp files. Prints the median and p95 in milliseconds; a benchmark, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from supportdesk.media.intake import MediaIntake  # noqa: E402
from supportdesk.media.store import FileMediaStore  # noqa: E402
from supportdesk.media.transcription import Transcriber  # noqa: E402
from supportdesk.platform.database import Database  # noqa: E402
from supportdesk.platform.retry_policy import RetryPolicy  # noqa: E402
from supportdesk.platform.schema import migrate  # noqa: E402
from supportdesk.platform.settings import Settings  # noqa: E402
from supportdesk.whatsapp.graph_api import GraphApiClient  # noqa: E402
from supportdesk.whatsapp.payload import parse_webhook  # noqa: E402
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi  # noqa: E402
from tests.fakes.fake_openai import FAKE_API_KEY, FakeOpenAi  # noqa: E402
from tests.fixture_files import PHONE_NUMBER_ID, fixture_bytes  # noqa: E402

# (fixture, typical size in bytes): a phone photo, a 20-second voice note, a short clip, a PDF, a sticker.
TYPES = {
    "image": ("inbound_image.json", 180_000),
    "audio": ("inbound_audio_voice.json", 40_000),
    "video": ("inbound_video.json", 2_000_000),
    "document": ("inbound_document.json", 300_000),
    "sticker": ("inbound_sticker.json", 30_000),
}


def _message(fixture: str, data: bytes, run: int):
    message = parse_webhook(fixture_bytes(fixture)).messages[0]
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    media = dataclasses.replace(message.media, sha256=sha, media_id=f"{message.media.media_id}{run:04d}")
    return dataclasses.replace(message, wamid=f"{message.wamid}.{run}", media=media)


async def measure(runs: int) -> Dict[str, Dict[str, List[float]]]:
    timings: Dict[str, Dict[str, List[float]]] = {kind: {"download": [], "transcription": []} for kind in TYPES}
    with tempfile.TemporaryDirectory() as folder, FakeGraphApi() as graph_fake, FakeOpenAi() as openai_fake:
        database = Database(f"sqlite:///{folder}/bench.db")
        migrate(database)
        graph = GraphApiClient(graph_fake.url + "/v24.0", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN)
        transcriber = Transcriber(Settings(openai_api_key=FAKE_API_KEY, openai_base_url=openai_fake.base_url))
        intake = MediaIntake(database, FileMediaStore(Path(folder) / "media"), graph, RetryPolicy(3, 0.1, 1.0))
        for kind, (fixture, size) in TYPES.items():
            for run in range(runs + 1):  # run 0 warms up (connections, the openai client) and is not counted
                data = hashlib.sha256(f"{kind}{run}".encode()).digest() * (size // 32)
                message = _message(fixture, data, run)
                graph_fake.add_media(message.media.media_id, data, message.media.mime_type)
                started = time.perf_counter()
                record = await intake.ingest(message.customer_id, message)
                if run:
                    timings[kind]["download"].append((time.perf_counter() - started) * 1000)
                assert record.status == "stored", record.error
                if kind == "audio":
                    started = time.perf_counter()
                    spoken = await transcriber.transcribe(data, message.media.mime_type, message.customer_id)
                    if run:
                        timings[kind]["transcription"].append((time.perf_counter() - started) * 1000)
                    assert spoken is not None
        await graph.close()
        await transcriber.aclose()
        database.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    timings = asyncio.run(measure(parser.parse_args().runs))
    print("| type | size | download + checks + store, median (p95) | transcription, median (p95) |")
    print("|---|---|---|---|")
    for kind, (_, size) in TYPES.items():
        cells = []
        for step in ("download", "transcription"):
            values = sorted(timings[kind][step])
            if not values:
                cells.append("—")
                continue
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
            cells.append(f"{statistics.median(values):.1f} ms ({p95:.1f} ms)")
        print(f"| {kind} | {size / 1000:.0f} KB | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
