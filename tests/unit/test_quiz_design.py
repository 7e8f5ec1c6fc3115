"""The study design: balanced, kept assignment per participant; per-participant item seeds; the
answer store's upgrade from schema 1, which never loses or invents a choice."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from rl_workbench.quiz.design import block_size, condition_for, item_seed
from rl_workbench.quiz.store import AnswerStore

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
    deck TEXT NOT NULL, deck_hash TEXT NOT NULL, condition TEXT NOT NULL, seed INTEGER NOT NULL,
    started_at REAL NOT NULL, finished_at REAL);
CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL,
    item_index INTEGER NOT NULL, phase TEXT NOT NULL, kind TEXT NOT NULL, item TEXT NOT NULL,
    answer TEXT NOT NULL, agent_probs TEXT, score TEXT NOT NULL, shown_at REAL NOT NULL,
    answered_at REAL NOT NULL, UNIQUE (session_id, item_index));
INSERT INTO meta VALUES ('schema', '1');
"""


@pytest.mark.parametrize("conditions", [("explain", "control"), ("a", "b", "c")])
def test_every_full_block_is_balanced_and_the_order_is_not_fixed(conditions) -> None:
    size = block_size(conditions)
    arms = [condition_for(k, conditions, "maze", 0) for k in range(size * 6)]
    for start in range(0, len(arms), size):
        assert Counter(arms[start : start + size]) == {c: 2 for c in conditions}
    blocks = {tuple(arms[s : s + size]) for s in range(0, len(arms), size)}
    assert len(blocks) > 1  # shuffled per block, not one repeated pattern
    assert arms == [condition_for(k, conditions, "maze", 0) for k in range(size * 6)]


def test_item_seeds_differ_by_person_session_and_attempt() -> None:
    base = item_seed(0, "ada", 0, 1, 2)
    assert base == item_seed(0, "ada", 0, 1, 2)  # a resumed session redraws the same items
    others = [item_seed(0, "bob", 0, 1, 2), item_seed(0, "ada", 1, 1, 2),
              item_seed(0, "ada", 0, 1, 2, attempt=1), item_seed(1, "ada", 0, 1, 2)]  # fmt: skip
    assert base not in others and len(set(others)) == 4


def test_a_participant_keeps_their_arm_and_places_are_taken_in_order(tmp_path: Path) -> None:
    store = AnswerStore(tmp_path / "q.sqlite")
    draw = lambda position: condition_for(position, ("explain", "control"), "maze", 0)  # noqa: E731
    arms = {u: store.assign_condition(u, "maze", draw) for u in ("p0", "p1", "p2", "p3")}
    assert list(arms.values()) == [draw(k) for k in range(4)]
    assert Counter(arms.values()) == {"explain": 2, "control": 2}
    assert store.assign_condition("p2", "maze", draw) == arms["p2"]  # a second session: same arm
    assert store.assign_condition("p2", "other-deck", draw) == draw(0)  # places are per deck


def test_a_version_1_store_is_upgraded_without_inventing_choices(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO sessions VALUES (1, 'ada', 'maze', 'h', 'control', 1, 10.0, 20.0)")
    db.execute("INSERT INTO sessions VALUES (2, 'ada', 'maze', 'h', 'explain', 2, 30.0, NULL)")
    db.execute("INSERT INTO sessions VALUES (3, 'bob', 'maze', 'h', 'explain', 3, 40.0, NULL)")
    for index, q in enumerate(([0.25] * 4, [0.1, 0.7, 0.1, 0.1])):
        db.execute(
            "INSERT INTO answers (session_id, item_index, phase, kind, item, answer, agent_probs, "
            "score, shown_at, answered_at) VALUES (1, ?, '1:predict', 'predict', '{}', ?, NULL, "
            "'{}', 1.0, 2.0)",
            (index, json.dumps({"q": q})),
        )
    db.commit()
    db.close()
    read_only = AnswerStore(path, read_only=True)  # read as it is: nothing written
    assert [(r["chosen_action"], r["stated_confidence"]) for r in read_only.rows()] == [
        (None, None),
        (1, 0.7),
    ]
    read_only.close()
    store = AnswerStore(path)
    rows = store.rows()
    assert [(r["chosen_action"], r["stated_confidence"]) for r in rows] == [(None, None), (1, 0.7)]
    # each participant keeps the arm of their first session
    assert store.assign_condition("ada", "maze", lambda k: "explain") == "control"
    assert store.assign_condition("carl", "maze", lambda k: f"place {k}") == "place 2"
    store.close()
    version = sqlite3.connect(path).execute("SELECT value FROM meta").fetchone()
    assert version == ("2",)
