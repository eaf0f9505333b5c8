"""scripts/nlu_report.py: split by folder, scores, floors, missed must-catch messages, exit code."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import List

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "nlu_report.py"


def load_script() -> ModuleType:
    """scripts/nlu_report.py as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("nlu_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["nlu_report"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


report = load_script()


EN = """version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hello there
      - hi
  - intent: request_human
    examples: |
      - a person please
"""
PT = """version: "3.1"
nlu:
  - intent: greet
    examples: |
      - oi, tudo bem?
  - intent: request_human
    examples: |
      - qro falar c atendente
      - me passa pra um humano
"""


def write_tests(root: Path) -> Path:
    """A tests/nlu tree with one en and one pt file."""
    for language, text in (("en", EN), ("pt", PT)):
        (root / language).mkdir(parents=True)
        (root / language / "shared.yml").write_text(text, encoding="utf-8")
    return root


def write_results(results: Path, successes: List[dict], errors: List[dict]) -> Path:
    """The two files `rasa test nlu --successes` writes."""
    results.mkdir(parents=True, exist_ok=True)
    (results / "intent_successes.json").write_text(json.dumps(successes), encoding="utf-8")
    (results / "intent_errors.json").write_text(json.dumps(errors), encoding="utf-8")
    return results


def entry(text: str, intent: str, predicted: str) -> dict:
    """One prediction as Rasa writes it."""
    return {"text": text, "intent": intent, "intent_prediction": {"name": predicted, "confidence": 0.9}}


def test_held_out_texts_map_to_the_folder_they_sit_in(tmp_path: Path) -> None:
    """The first folder under tests/nlu is the language."""
    languages = report.held_out_languages(write_tests(tmp_path / "nlu"))
    assert languages == {
        "hello there": "en", "hi": "en", "a person please": "en",
        "oi, tudo bem?": "pt", "qro falar c atendente": "pt", "me passa pra um humano": "pt",
    }


def test_a_text_held_out_in_two_languages_is_refused(tmp_path: Path) -> None:
    """The split goes by text, so one text in two languages would be counted wrongly."""
    root = write_tests(tmp_path / "nlu")
    (root / "pt" / "more.yml").write_text(EN, encoding="utf-8")
    with pytest.raises(ValueError, match="in both en and pt"):
        report.held_out_languages(root)


def test_predictions_are_read_from_successes_and_errors(tmp_path: Path) -> None:
    """Both files, in order; a missing prediction name reads as an empty intent."""
    results = write_results(tmp_path, [entry("hi", "greet", "greet")],
                            [{"text": "oi", "intent": "greet", "intent_prediction": None}])
    assert report.load_predictions(results) == [report.Prediction("hi", "greet", "greet"), report.Prediction("oi", "greet", "")]


def test_macro_f1_averages_every_expected_or_predicted_intent() -> None:
    """greet: P=1/1, R=1/2 -> 2/3; ask_question: P=0, R=0 -> 0; request_human: 1. Mean 5/9."""
    predictions = [
        report.Prediction("a", "greet", "greet"),
        report.Prediction("b", "greet", "ask_question"),
        report.Prediction("c", "request_human", "request_human"),
    ]
    assert report.macro_f1(predictions) == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert report.macro_f1([]) == 0.0


def test_score_counts_accuracy_and_the_missed_must_catch_texts() -> None:
    """Two of three right; the one request_human message taken for a thank is listed."""
    predictions = [
        report.Prediction("oi", "greet", "greet"),
        report.Prediction("preciso de ajuda", "ask_question", "ask_question"),
        report.Prediction("atendente pfv", "request_human", "thank"),
    ]
    assert report.score("pt", predictions, "request_human") == report.LanguageScore(
        language="pt", examples=3, accuracy=2 / 3, macro_f1=report.macro_f1(predictions), must_catch=1,
        missed=("atendente pfv",),
    )


def test_predictions_are_split_by_language_and_unknown_texts_refused() -> None:
    """Each language gets its own score; a text from no held-out file is an error, not ignored."""
    languages = {"hi": "en", "oi": "pt"}
    predictions = [report.Prediction("oi", "greet", "greet"), report.Prediction("hi", "greet", "deny")]
    scores = report.score_languages(predictions, languages, "request_human")
    assert [(s.language, s.examples, s.accuracy) for s in scores] == [("en", 1, 0.0), ("pt", 1, 1.0)]
    with pytest.raises(ValueError, match="'hello'"):
        report.score_languages([report.Prediction("hello", "greet", "greet")], languages, "request_human")


def test_failures_name_each_language_below_its_floor_and_each_missed_message() -> None:
    """95 % for every language, a higher floor where one is given, and zero missed must-catch."""
    scores = [
        report.LanguageScore("en", 100, 0.96, 0.96, 10, ()),
        report.LanguageScore("pt", 100, 0.97, 0.97, 10, ("atendente pfv",)),
        report.LanguageScore("es", 100, 0.94, 0.94, 10, ()),
    ]
    assert report.failures(scores, 0.95, {"en": 0.964}) == [
        "en: intent accuracy 0.960 is below 0.964",
        "pt: missed 'atendente pfv'",
        "es: intent accuracy 0.940 is below 0.950",
    ]
    assert report.failures(scores[:1], 0.95, {}) == []


def test_the_table_has_one_row_per_language() -> None:
    """Markdown, ready for the README."""
    scores = [report.LanguageScore("en", 122, 0.9918, 0.99, 20, ()),
              report.LanguageScore("pt", 171, 0.97, 0.96, 30, ("x",))]
    table = report.render_table(scores, "request_human")
    assert table.splitlines() == [
        "| language | held-out messages | intent accuracy | macro F1 | request_human missed |",
        "|---|---|---|---|---|",
        "| en | 122 | 0.992 | 0.990 | 0 of 20 |",
        "| pt | 171 | 0.970 | 0.960 | 1 of 30 |",
    ]


def test_floors_are_read_as_language_equals_accuracy() -> None:
    """`--floor en=0.964`; anything else is a usage error."""
    assert report.parse_floors(["en=0.964", "pt=0.95"]) == {"en": 0.964, "pt": 0.95}
    with pytest.raises(Exception, match="LANGUAGE=ACCURACY"):
        report.parse_floors(["en"])


def test_main_prints_the_table_writes_json_and_fails_on_a_missed_request_for_a_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 1 and a FAIL line when one pt request_human message is missed, although accuracy is fine."""
    tests = write_tests(tmp_path / "nlu")
    results = write_results(
        tmp_path / "results",
        [entry(t, i, i) for t, i in (("hello there", "greet"), ("hi", "greet"), ("a person please", "request_human"),
                                     ("oi, tudo bem?", "greet"), ("qro falar c atendente", "request_human"))],
        [entry("me passa pra um humano", "request_human", "greet")],
    )
    code = report.main(["--results", str(results), "--tests", str(tests), "--min-accuracy", "0.5"])
    out = capsys.readouterr().out
    assert code == 1
    assert "| pt | 3 | 0.667 |" in out
    assert "FAIL pt: missed 'me passa pra um humano'" in out
    written = json.loads((results / "per_language_report.json").read_text(encoding="utf-8"))
    assert [(r["language"], r["missed"]) for r in written] == [("en", []), ("pt", ["me passa pra um humano"])]


def test_main_passes_when_every_language_is_above_its_floor(tmp_path: Path) -> None:
    """Exit 0 when nothing is missed."""
    tests = write_tests(tmp_path / "nlu")
    results = write_results(
        tmp_path / "results",
        [entry(t, i, i) for t, i in (("hello there", "greet"), ("hi", "greet"), ("a person please", "request_human"),
                                     ("oi, tudo bem?", "greet"), ("qro falar c atendente", "request_human"),
                                     ("me passa pra um humano", "request_human"))],
        [],
    )
    assert report.main(["--results", str(results), "--tests", str(tests), "--floor", "en=0.964"]) == 0
