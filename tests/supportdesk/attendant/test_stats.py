"""The team's figures against a seeded database with known answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from supportdesk.attendant.stats import team_stats, window_start
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime, reset_runtime

DAY = 86_400
DAY_23 = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc).timestamp()  # the window's first day (days=3)
NOW = DAY_23 + 2 * DAY + 12 * 3600  # 25 Nov, noon


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, monkeypatch, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path / 'stats.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings_cache()
    reset_runtime()
    return get_runtime().database


def seed(database) -> None:
    """A (23rd, handed over, answered after 60 s, resolved after 600 s, score 5), B (24th, 180 s, 1200 s, score 4),
    C (25th, handed over, no answer yet), D (25th, the assistant alone), E (20th: outside the window)."""
    at = {"A": DAY_23 + 3600, "B": DAY_23 + DAY + 7200, "C": DAY_23 + 2 * DAY + 3600, "D": DAY_23 + 2 * DAY + 60,
          "E": DAY_23 - 3 * DAY}
    writes = [("A", at["A"]), ("A", at["A"] + 30), ("A", DAY_23 + 2 * DAY + 10), ("B", at["B"]), ("C", at["C"]),
              ("D", at["D"]), ("E", at["E"])]
    with database.transaction() as cursor:
        for n, (who, when) in enumerate(writes):
            cursor.execute(
                "INSERT INTO inbox_messages (wamid, conversation_id, kind, sent_at, received_at, payload, state) "
                "VALUES (?, ?, 'text', ?, ?, '{}', 'done')",
                (f"wamid.{n}", who, int(when), when),
            )
        for who in "ABCDE":
            cursor.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)", (who, at[who], at[who]))
        for who in "ABCE":
            cursor.execute("INSERT INTO handoff_requests (conversation_id, requested_at) VALUES (?, ?)", (who, at[who]))
        replies = [("A", at["A"] - 50), ("A", at["A"] + 60), ("A", at["A"] + 500), ("B", at["B"] + 180), ("E", at["E"] + 5)]
        for who, when in replies:
            cursor.execute(
                "INSERT INTO outbox_messages (conversation_id, origin, message, next_attempt_at, created_at, updated_at) "
                "VALUES (?, 'attendant', '{}', ?, ?, ?)",
                (who, when, when, when),
            )
        for who, after in (("A", 600), ("B", 1200), ("E", 100)):
            cursor.execute("UPDATE conversations SET resolved_at = ? WHERE id = ?", (at[who] + after, who))
        for who, score in (("A", 5), ("B", 4), ("E", 1)):
            cursor.execute(
                "INSERT INTO satisfaction (conversation_id, score, asked_at, answered_at) VALUES (?, ?, ?, ?)",
                (who, score, at[who] + 700, at[who] + 1300),
            )


def test_the_figures_of_three_days_are_exact(database):
    seed(database)
    assert team_stats(database, 3, NOW) == {
        "days": 3,
        "since": "2026-11-23",
        "conversations": 4,
        "handoffs": 3,
        "resolved": 2,
        "bot_only_rate": 0.25,
        "first_response_seconds_p50": 120.0,
        "resolution_seconds_p50": 900.0,
        "csat_average": 4.5,
        "by_day": [
            {"date": "2026-11-23", "conversations": 1, "handoffs": 1, "resolved": 1},
            {"date": "2026-11-24", "conversations": 1, "handoffs": 1, "resolved": 1},
            {"date": "2026-11-25", "conversations": 3, "handoffs": 1, "resolved": 0},
        ],
    }


def test_one_day_and_an_odd_count_take_the_middle_value(database):
    seed(database)
    today = team_stats(database, 1, NOW)
    assert (today["conversations"], today["handoffs"], today["bot_only_rate"]) == (3, 1, 0.667)
    assert today["first_response_seconds_p50"] is None and today["csat_average"] is None
    assert team_stats(database, 10, NOW)["first_response_seconds_p50"] == 60.0  # 5, 60, 180


def test_an_empty_database_has_zeros_and_nulls(database):
    empty = team_stats(database, 2, NOW)
    assert empty["conversations"] == empty["handoffs"] == empty["resolved"] == 0
    assert empty["bot_only_rate"] is None and empty["resolution_seconds_p50"] is None
    assert [day["date"] for day in empty["by_day"]] == ["2026-11-24", "2026-11-25"]


def test_the_window_starts_at_midnight_utc():
    assert window_start(3, NOW) == DAY_23
