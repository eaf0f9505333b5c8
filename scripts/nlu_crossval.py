"""FallbackClassifier threshold sweep: per threshold, correct / wrongly accepted / sent to the fallback.

Two ways to get confidences, both per language (the folder of each phrasing):

* held-out (default, about a minute): the trained model (`models/current.tar.gz`) parses every phrasing
  of `tests/nlu/<language>/` and the out-of-scope messages of `tests/fixtures/nlu/out_of_scope.yml`;
* `--folds N` (`make crossval`, N=3: about 8 minutes on 2 cores): stratified N-fold cross-validation
  over `data/nlu/`, one NLU-only `rasa train nlu` per fold, each fold parsed by the model trained
  without it (the out-of-scope messages are parsed by every fold's model).

The ranking each message gets from DIET (without `nlu_fallback`) is then replayed against every
threshold: a message goes to the fallback when its top confidence is under the threshold or the first
two intents are closer than the ambiguity threshold. An off-topic message of the fixture is handled well
when it goes to the fallback, to `out_of_scope` or to `ask_question`: all three lead to the AI answer.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

OFF_TOPIC = "(off-topic)"  # the label of the fixture's messages: no one intent is right for them
AI_ROUTES = {"nlu_fallback", "out_of_scope", "ask_question"}  # each leads to the AI answer
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
AMBIGUITIES = (0.0, 0.1, 0.2)


@dataclass(frozen=True)
class Parsed:
    """One message: its language, the intent it should get (or OFF_TOPIC) and DIET's top two."""

    language: str
    intent: str
    top: str
    confidence: float
    margin: float


@dataclass(frozen=True)
class Row:
    """The outcome counts of one language at one threshold pair."""

    language: str
    threshold: float
    ambiguity: float
    correct: int
    wrong: int
    fallback: int
    out_of_scope_caught: int
    out_of_scope_accepted: int


def labelled_examples(root: Path) -> List[Tuple[str, str, str]]:
    """(language, intent, text) of every intent example under `root/<language>/`."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    found = []
    for path in sorted(root.glob("*/**/*.yml")):
        language = path.relative_to(root).parts[0]
        for message in RasaYAMLReader().read(path).intent_examples:
            found.append((language, message.get("intent"), message.get("text")))
    return found


def out_of_scope_examples(path: Path) -> List[Tuple[str, str, str]]:
    """(language, OFF_TOPIC, text) of every message in the out-of-scope fixture."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(language, OFF_TOPIC, str(text)) for language, texts in data.items() for text in texts]


def folds(examples: Sequence[Tuple[str, str, str]], count: int, seed: int = 42) -> List[List[Tuple[str, str, str]]]:
    """Split examples into `count` folds, each (language, intent) spread evenly over them."""
    groups: Dict[Tuple[str, str], List[Tuple[str, str, str]]] = defaultdict(list)
    for example in examples:
        groups[example[:2]].append(example)
    split: List[List[Tuple[str, str, str]]] = [[] for _ in range(count)]
    rng = random.Random(seed)
    for key in sorted(groups):
        members = sorted(groups[key])
        rng.shuffle(members)
        for index, example in enumerate(members):
            split[index % count].append(example)
    return split


def from_ranking(language: str, intent: str, ranking: Iterable[Dict]) -> Parsed:
    """A Parsed message from Rasa's intent ranking, leaving out the fallback the model itself added."""
    ranked = sorted(
        ((entry["name"], float(entry["confidence"])) for entry in ranking if entry["name"] != "nlu_fallback"),
        key=lambda pair: -pair[1],
    )
    top, confidence = ranked[0] if ranked else ("", 0.0)
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    return Parsed(language, intent, top, confidence, confidence - second)


def falls_back(message: Parsed, threshold: float, ambiguity: float) -> bool:
    """Whether FallbackClassifier with these thresholds would turn the message into nlu_fallback."""
    return message.confidence < threshold or message.margin < ambiguity


def sweep(parsed: Sequence[Parsed], thresholds: Sequence[float], ambiguities: Sequence[float]) -> List[Row]:
    """One row per language and threshold pair."""
    rows = []
    for language in sorted({p.language for p in parsed}):
        mine = [p for p in parsed if p.language == language]
        for ambiguity in ambiguities:
            for threshold in thresholds:
                counts = defaultdict(int)
                for message in mine:
                    route = "nlu_fallback" if falls_back(message, threshold, ambiguity) else message.top
                    if message.intent == OFF_TOPIC:
                        counts["caught" if route in AI_ROUTES else "accepted"] += 1
                    elif route == "nlu_fallback":
                        counts["fallback"] += 1
                    else:
                        counts["correct" if route == message.intent else "wrong"] += 1
                rows.append(
                    Row(language, threshold, ambiguity, counts["correct"], counts["wrong"], counts["fallback"],
                        counts["caught"], counts["accepted"])
                )
    return rows


def render(rows: Sequence[Row]) -> str:
    """A Markdown table of the sweep."""
    lines = [
        "| language | threshold | ambiguity | correct | wrong intent | to fallback | off-topic to AI | off-topic taken |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        total = r.correct + r.wrong + r.fallback
        lines.append(
            f"| {r.language} | {r.threshold:.1f} | {r.ambiguity:.1f} | {r.correct}/{total} | {r.wrong} | {r.fallback} "
            f"| {r.out_of_scope_caught}/{r.out_of_scope_caught + r.out_of_scope_accepted} | {r.out_of_scope_accepted} |"
        )
    return "\n".join(lines)


async def parse_all(model: Path, examples: Sequence[Tuple[str, str, str]]) -> List[Parsed]:
    """Parse every example with one model."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    parsed = []
    for language, intent, text in examples:
        result = await agent.parse_message(text)
        parsed.append(from_ranking(language, intent, result.get("intent_ranking") or []))
    return parsed


def write_nlu(path: Path, examples: Sequence[Tuple[str, str, str]]) -> None:
    """Write examples as Rasa NLU YAML."""
    by_intent: Dict[str, List[str]] = defaultdict(list)
    for _, intent, text in examples:
        by_intent[intent].append(text)
    nlu = [{"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)} for intent, texts in by_intent.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False), encoding="utf-8")


def cross_validate(project: Path, count: int, out_of_scope: Sequence[Tuple[str, str, str]]) -> List[Parsed]:
    """Train one NLU model per fold and parse what it did not see."""
    split = folds(labelled_examples(project / "data" / "nlu"), count)
    parsed: List[Parsed] = []
    with tempfile.TemporaryDirectory(prefix="nlu-crossval-") as work:
        for index, held_out in enumerate(split):
            training = [example for other, fold in enumerate(split) if other != index for example in fold]
            data = Path(work) / f"fold{index}.yml"
            write_nlu(data, training)
            print(f"fold {index + 1}/{count}: training on {len(training)}, testing {len(held_out)}", flush=True)
            subprocess.run(
                [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(project / "config.yml"), "--nlu", str(data),
                 "--out", work, "--fixed-model-name", f"fold{index}", "--quiet"],
                check=True, cwd=project, stdout=subprocess.DEVNULL,
            )
            parsed.extend(asyncio.run(parse_all(Path(work) / f"fold{index}.tar.gz", list(held_out) + list(out_of_scope))))
    return parsed


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse, sweep the thresholds and print the table."""
    project = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=project / "models" / "current.tar.gz")
    parser.add_argument("--tests", type=Path, default=project / "tests" / "nlu")
    parser.add_argument("--out-of-scope", type=Path, default=project / "tests" / "fixtures" / "nlu" / "out_of_scope.yml")
    parser.add_argument("--folds", type=int, default=0, help="N-fold cross-validation over data/nlu (0: held-out)")
    parser.add_argument("--ambiguity", type=float, action="append", help="ambiguity thresholds to sweep")
    args = parser.parse_args(argv)
    out_of_scope = out_of_scope_examples(args.out_of_scope)
    if args.folds > 1:
        parsed = cross_validate(project, args.folds, out_of_scope)
    else:
        parsed = asyncio.run(parse_all(args.model, labelled_examples(args.tests) + out_of_scope))
    print(render(sweep(parsed, THRESHOLDS, args.ambiguity or AMBIGUITIES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
