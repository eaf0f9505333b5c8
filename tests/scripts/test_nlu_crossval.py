"""scripts/nlu_crossval.py: folds, the replayed fallback decision and the per-threshold counts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "nlu_crossval.py"


def load_script() -> ModuleType:
    """scripts/nlu_crossval.py as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("nlu_crossval", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["nlu_crossval"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


crossval = load_script()
Parsed = crossval.Parsed


def test_folds_spread_each_language_and_intent_evenly_and_keep_every_example() -> None:
    examples = [("en", "greet", f"hi {n}") for n in range(6)] + [("pt", "greet", f"oi {n}") for n in range(3)]
    split = crossval.folds(examples, 3)
    assert sorted(e for fold in split for e in fold) == sorted(examples)
    assert [sum(1 for e in fold if e[0] == "en") for fold in split] == [2, 2, 2]
    assert [sum(1 for e in fold if e[0] == "pt") for fold in split] == [1, 1, 1]
    assert crossval.folds(examples, 3) == split  # seeded: the same folds every run


def test_from_ranking_ignores_the_fallback_the_model_added() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "greet", "confidence": 0.45},
               {"name": "thank", "confidence": 0.3}]
    assert crossval.from_ranking("en", "greet", ranking) == Parsed("en", "greet", "greet", 0.45, 0.45 - 0.3)


def test_a_message_falls_back_under_the_threshold_or_when_two_intents_are_too_close() -> None:
    assert crossval.falls_back(Parsed("en", "greet", "greet", 0.69, 0.5), 0.7, 0.1)
    assert crossval.falls_back(Parsed("en", "greet", "greet", 0.9, 0.05), 0.7, 0.1)
    assert not crossval.falls_back(Parsed("en", "greet", "greet", 0.9, 0.1), 0.7, 0.1)


def test_sweep_counts_correct_wrong_fallback_and_off_topic_per_language() -> None:
    parsed = [
        Parsed("en", "greet", "greet", 0.95, 0.9),  # correct at both thresholds
        Parsed("en", "greet", "thank", 0.6, 0.5),  # wrong at 0.5, to the fallback at 0.7
        Parsed("en", crossval.OFF_TOPIC, "affirm", 0.99, 0.98),  # taken by an unrelated intent at both
        Parsed("en", crossval.OFF_TOPIC, "out_of_scope", 0.99, 0.98),  # the AI answer either way
        Parsed("en", crossval.OFF_TOPIC, "goodbye", 0.4, 0.3),  # taken at 0.3, to the fallback at 0.5
        Parsed("pt", "thank", "thank", 0.65, 0.6),
    ]
    rows = {(r.language, r.threshold): r for r in crossval.sweep(parsed, (0.3, 0.5, 0.7), (0.1,))}
    assert rows["en", 0.5] == crossval.Row("en", 0.5, 0.1, 1, 1, 0, 2, 1)
    assert rows["en", 0.7] == crossval.Row("en", 0.7, 0.1, 1, 0, 1, 2, 1)
    assert rows["en", 0.3] == crossval.Row("en", 0.3, 0.1, 1, 1, 0, 1, 2)
    assert rows["pt", 0.7] == crossval.Row("pt", 0.7, 0.1, 0, 0, 1, 0, 0)


def test_render_prints_one_markdown_row_per_language_and_threshold() -> None:
    table = crossval.render([crossval.Row("pt", 0.7, 0.1, 200, 3, 7, 18, 2)])
    assert table.splitlines()[2] == "| pt | 0.7 | 0.1 | 200/210 | 3 | 7 | 18/20 | 2 |"
