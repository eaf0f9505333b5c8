"""Per-language NLU report: split one `rasa test nlu` run by the language folder of each held-out phrasing.

`tests/nlu/<language>/*.yml` hold the held-out phrasings of each language. `make test-nlu` runs
`rasa test nlu --nlu tests/nlu --successes` once, then `python scripts/nlu_report.py`
reads `intent_successes.json` and `intent_errors.json`, prints one row per language (intent accuracy,
macro F1, messages of the must-catch intent that were missed) and exits 1 when a language is below
its accuracy floor or a must-catch message was missed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

DEFAULT_MIN_ACCURACY = 0.95
DEFAULT_MUST_CATCH = "request_human"
REPORT_FILE = "per_language_report.json"


@dataclass(frozen=True)
class Prediction:
    """One held-out phrasing: its text, the intent it should get and the intent the model gave."""

    text: str
    intent: str
    predicted: str


@dataclass(frozen=True)
class LanguageScore:
    """The NLU scores of one language's held-out phrasings."""

    language: str
    examples: int
    accuracy: float
    macro_f1: float
    must_catch: int
    missed: Tuple[str, ...]


def held_out_languages(tests_root: Path) -> Dict[str, str]:
    """Map each held-out text to its language, the folder right under `tests_root` that holds it."""
    languages: Dict[str, str] = {}
    for path in sorted(tests_root.glob("*/**/*.yml")):
        language = path.relative_to(tests_root).parts[0]
        for message in RasaYAMLReader().read(path).intent_examples:
            text = message.get("text")
            known = languages.setdefault(text, language)
            if known != language:
                raise ValueError(f"held-out text {text!r} is in both {known} and {language}")
    return languages


def load_predictions(results_dir: Path) -> List[Prediction]:
    """Every prediction of a `rasa test nlu --successes` run, successes and errors."""
    predictions = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = results_dir / name
        entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        predictions.extend(
            Prediction(entry["text"], entry["intent"], (entry.get("intent_prediction") or {}).get("name") or "")
            for entry in entries
        )
    return predictions


def macro_f1(predictions: Sequence[Prediction]) -> float:
    """Unweighted mean F1 over every intent expected or predicted (as scikit-learn's macro average)."""
    labels = {p.intent for p in predictions} | {p.predicted for p in predictions}
    if not labels:
        return 0.0
    total = 0.0
    for label in labels:
        hits = sum(1 for p in predictions if p.intent == label and p.predicted == label)
        expected = sum(1 for p in predictions if p.intent == label)
        predicted = sum(1 for p in predictions if p.predicted == label)
        total += 2 * hits / (expected + predicted) if expected + predicted else 0.0
    return total / len(labels)


def score(language: str, predictions: Sequence[Prediction], must_catch: str) -> LanguageScore:
    """Accuracy, macro F1 and the missed must-catch texts of one language's predictions."""
    hits = sum(1 for p in predictions if p.intent == p.predicted)
    wanted = [p for p in predictions if p.intent == must_catch]
    return LanguageScore(
        language=language,
        examples=len(predictions),
        accuracy=hits / len(predictions) if predictions else 0.0,
        macro_f1=macro_f1(predictions),
        must_catch=len(wanted),
        missed=tuple(p.text for p in wanted if p.predicted != must_catch),
    )


def score_languages(
    predictions: Iterable[Prediction], languages: Mapping[str, str], must_catch: str
) -> List[LanguageScore]:
    """One score per language, sorted by language; a prediction of unknown text is an error."""
    by_language: Dict[str, List[Prediction]] = {language: [] for language in languages.values()}
    for prediction in predictions:
        if prediction.text not in languages:
            raise ValueError(f"prediction for {prediction.text!r}, which is in no tests/nlu/<language>/ file")
        by_language[languages[prediction.text]].append(prediction)
    return [score(language, by_language[language], must_catch) for language in sorted(by_language)]


def failures(scores: Iterable[LanguageScore], min_accuracy: float, floors: Mapping[str, float]) -> List[str]:
    """Why the run fails: a language below its accuracy floor, or a must-catch message missed."""
    problems = []
    for entry in scores:
        floor = max(min_accuracy, floors.get(entry.language, min_accuracy))
        if entry.accuracy < floor:
            problems.append(f"{entry.language}: intent accuracy {entry.accuracy:.3f} is below {floor:.3f}")
        problems.extend(f"{entry.language}: missed {text!r}" for text in entry.missed)
    return problems


def render_table(scores: Iterable[LanguageScore], must_catch: str) -> str:
    """A Markdown table, one row per language."""
    lines = [
        f"| language | held-out messages | intent accuracy | macro F1 | {must_catch} missed |",
        "|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {s.language} | {s.examples} | {s.accuracy:.3f} | {s.macro_f1:.3f} | {len(s.missed)} of {s.must_catch} |"
        for s in scores
    )
    return "\n".join(lines)


def parse_floors(values: Sequence[str]) -> Dict[str, float]:
    """`en=0.964` pairs into a mapping from language to its accuracy floor."""
    floors = {}
    for value in values:
        language, separator, number = value.partition("=")
        if not separator:
            raise argparse.ArgumentTypeError(f"--floor wants LANGUAGE=ACCURACY, got {value!r}")
        floors[language] = float(number)
    return floors


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the per-language table, write it as JSON beside Rasa's reports, return 1 on a failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results/nlu"))
    parser.add_argument("--tests", type=Path, default=Path("tests/nlu"))
    parser.add_argument("--min-accuracy", type=float, default=DEFAULT_MIN_ACCURACY)
    parser.add_argument("--floor", action="append", default=[], help="LANGUAGE=ACCURACY, a higher floor")
    parser.add_argument("--must-catch", default=DEFAULT_MUST_CATCH)
    args = parser.parse_args(argv)
    scores = score_languages(load_predictions(args.results), held_out_languages(args.tests), args.must_catch)
    (args.results / REPORT_FILE).write_text(json.dumps([asdict(s) for s in scores], indent=2), encoding="utf-8")
    print(render_table(scores, args.must_catch))
    problems = failures(scores, args.min_accuracy, parse_floors(args.floor))
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
