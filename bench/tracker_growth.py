"""The tracker store's cost per turn as a conversation grows: read and save at 10, 50, 200 and 400 events.

    .venv/bin/python bench/tracker_growth.py [--events 10,50,200,400] [--turns 30] [--database-url URL]

Builds conversations of the given length in a fresh SQLite file (or `--database-url`, e.g. the
PostgreSQL of scripts/start-test-services.sh), with the events a real turn leaves (the user's message,
the rule's action and utterance, `action_listen`), then times what one more turn costs the tracker store:
`retrieve` (one query, then the tracker replayed from its events) and `save` (the turn's five new
events), for our store (`SettingsTrackerStore`) and Rasa's stock `SQLTrackerStore` on the same database.
Prints a table; a benchmark, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered  # noqa: E402

from supportdesk.platform.rasa_stores import SettingsTrackerStore, sql_tracker_store_arguments  # noqa: E402
from supportdesk.platform.settings import reset_settings_cache  # noqa: E402
from supportdesk.processes.web import model_domain  # noqa: E402

EVENTS_PER_TURN = 5


def turn_events(index: int, at: float) -> List[Any]:
    """What one answered "hello" leaves in the tracker."""
    parse = {"intent": {"name": "greet", "confidence": 0.99}, "entities": [], "text": f"hello {index}"}
    return [
        UserUttered(f"hello {index}", parse_data=parse, timestamp=at),
        ActionExecuted("utter_greet", policy="RulePolicy", confidence=1.0, timestamp=at + 0.01),
        BotUttered(f"Hi! I am the virtual assistant ({index}).", {"utter_action": "utter_greet"}, timestamp=at + 0.02),
        ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0, timestamp=at + 0.03),
        ActionExecuted("action_listen", timestamp=at + 0.04),
    ]


async def grow(store: Any, sender: str, events: int) -> None:
    """A conversation of about `events` events in one session."""
    tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
    tracker.update(SessionStarted(timestamp=time.time() - 10_000))
    at = time.time() - 5_000
    while len(tracker.events) < events:
        for event in turn_events(len(tracker.events), at):
            tracker.update(event)
        at += 1
    await store.save(tracker)


async def one_turn(store: Any, sender: str) -> Dict[str, float]:
    started = time.perf_counter()
    tracker = await store.retrieve(sender)
    read = time.perf_counter()
    for event in turn_events(len(tracker.events), time.time()):
        tracker.update(event)
    added = time.perf_counter()
    await store.save(tracker)
    saved = time.perf_counter()
    return {"retrieve": (read - started) * 1000, "save": (saved - added) * 1000}


async def measure(levels: List[int], turns: int) -> List[str]:
    domain = model_domain(str(PROJECT / "models" / "current.tar.gz"))
    arguments = sql_tracker_store_arguments(os.environ["DATABASE_URL"])
    stores = {"ours": SettingsTrackerStore(domain=domain), "stock Rasa": SQLTrackerStore(domain=domain, **arguments)}
    lines = [f"{'store':<12}{'events':>7}{'retrieve p50':>14}{'save p50':>10}{'turn p50':>10}{'turn p95':>10}"]
    for level in levels:
        for name, store in stores.items():
            sender = f"growth-{name.replace(' ', '')}-{level}-{time.time_ns()}"
            await grow(store, sender, level)
            timings = [await one_turn(store, sender) for _ in range(turns)]
            totals = sorted(t["retrieve"] + t["save"] for t in timings)
            lines.append(
                f"{name:<12}{level:>7}{statistics.median(t['retrieve'] for t in timings):>14.1f}"
                f"{statistics.median(t['save'] for t in timings):>10.1f}{statistics.median(totals):>10.1f}"
                f"{totals[int(0.95 * (len(totals) - 1))]:>10.1f}"
            )
    for store in stores.values():
        store.engine.dispose()
    return lines


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="10,50,200,400")
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='growth-')) / 't.db'}"
    reset_settings_cache()
    lines = asyncio.run(measure([int(level) for level in args.events.split(",")], args.turns))
    print("\n".join(lines))
    print(f"ms per turn, {args.turns} turns per row (each adds {EVENTS_PER_TURN} events); {os.environ['DATABASE_URL'].split(':')[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
