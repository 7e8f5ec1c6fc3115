"""What the quiz refuses before it starts, as typed errors naming the file, the line and the fix."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rl_workbench.audit.suite import SuiteError, resolve_suite
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.quiz.deck import DeckError, parse_deck, resolve_deck
from rl_workbench.quiz.stats import check_csv_path
from rl_workbench.quiz.store import AnswerStore, StoreError

DECK = "name: d\nenv: rlwb/Maze-v0\nagent: {agent}\nphases:\n  - kind: construct\n    target: {t}\n"


def test_an_unknown_construct_target_names_the_line_and_the_choices() -> None:
    with pytest.raises(DeckError, match=r"d\.yaml:6: field 'phases\[0\]\.target'.*'banana'"):
        parse_deck(DECK.format(agent="zoo:maze-uniform", t="banana"), "d.yaml")
    with pytest.raises(DeckError, match=r"Did you mean 'down'\?.*Valid choices: corner, down"):
        parse_deck(DECK.format(agent="zoo:maze-uniform", t="dwn"), "d.yaml")
    for target in ("up", "down", "left", "right", "corner"):
        assert parse_deck(DECK.format(agent="a", t=target), "d.yaml").phases[0].target == target


def test_a_deck_file_naming_a_missing_agent_is_refused_with_its_line(tmp_path: Path) -> None:
    deck = tmp_path / "d.yaml"
    deck.write_text(DECK.format(agent="nowhere/agent.zip", t="down"))
    with pytest.raises(DeckError, match=rf"{deck}:3: field 'agent': No agent at 'nowhere/agent"):
        resolve_deck(deck)
    flawed = "flawed_agent:\n  agent: zoo:maze-unifrom\n"
    deck.write_text(DECK.format(agent="zoo:maze-uniform", t="down") + flawed)
    with pytest.raises(DeckError, match=r"d\.yaml:8: field 'flawed_agent\.agent'.*maze-uniform"):
        resolve_deck(deck)


def test_binary_files_are_not_yaml(tmp_path: Path) -> None:
    garbage = tmp_path / "g.yaml"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" * 100)
    with pytest.raises(DeckError, match=r"g\.yaml is not a UTF-8 text file \(byte 0x89"):
        resolve_deck(garbage)
    with pytest.raises(SuiteError, match="is not a UTF-8 text file"):
        resolve_suite(garbage)


def test_a_db_whose_parent_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoreError, match=r"f is a file, not a folder"):
        AnswerStore(tmp_path / "f" / "sub" / "q.sqlite")


def test_a_folder_as_db_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"is a folder.*quiz\.sqlite"):
        AnswerStore(tmp_path)


def test_reading_never_writes(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE photos (id INTEGER)")
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a quiz database"):
        AnswerStore(other, read_only=True)
    assert other.read_bytes() == before
    with pytest.raises(StoreError, match="No answer database"):
        AnswerStore(tmp_path / "missing.sqlite", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()


def test_csv_targets_are_checked_before_any_work(tmp_path: Path) -> None:
    existing = tmp_path / "a.csv"
    existing.write_text("keep me")
    with pytest.raises(InvalidArgumentError, match=r"already exists\. Pass --force"):
        check_csv_path(existing)
    check_csv_path(existing, force=True)
    with pytest.raises(InvalidArgumentError, match="is a folder"):
        check_csv_path(tmp_path, force=True)
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        check_csv_path(tmp_path / "no" / "a.csv")
    assert existing.read_text() == "keep me"
