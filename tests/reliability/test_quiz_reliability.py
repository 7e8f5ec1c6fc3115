"""Issue 10, the quiz: nothing lost, nothing falsely reported, bad input refused before the app.

Every command runs in a real ``rlwb`` subprocess. Read-only media are emulated honestly: as a
normal user with ``chmod``; as root (where ``chmod`` stops nothing) with ``chattr +i``, which
refuses writes to root too, or the test is skipped where the filesystem has no such flag.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rl_workbench.quiz.session import QuizSession
from rl_workbench.quiz.store import AnswerStore
from tests.reliability.conftest import REPO
from tests.tui.conftest import DECK, scripted_agents

QUICK = 120.0
"""Timeout of a command that must be refused at once (a hung Textual app fails, slowly)."""


def _deck(tmp_path: Path, agent: str = "zoo:maze-uniform", target: str = "down") -> Path:
    path = tmp_path / "deck.yaml"
    path.write_text(
        "name: tiny\n"
        "env: rlwb/Maze-v0\n"
        f"agent: {agent}\n"
        "phases:\n"
        "  - kind: construct\n"
        "    items: 1\n"
        f"    target: {target}\n"
    )
    return path


def _quiz_db(path: Path) -> Path:
    """A quiz database with two answered predict items (ann, explain condition)."""
    store = AnswerStore(path)
    session = QuizSession(DECK, "ann", store, scripted_agents(), condition="explain", seed=1)
    for index in (1, 2):
        item = session.item(index)
        assert item.probs is not None
        session.answer_predict(item, list(item.probs), int(item.probs.argmax()))
    session.close()
    store.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def _read_only(*paths: Path) -> Iterator[None]:
    """Make files and folders unwritable for this user, root included; undo it afterwards."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    done: list[Path] = []
    try:
        for p in paths:
            proc = subprocess.run(["chattr", "+i", str(p)], capture_output=True)
            if proc.returncode != 0:
                pytest.skip(f"root, and chattr +i is not available here: {proc.stderr!r}")
            done.append(p)
        yield
    finally:
        for p in done:
            subprocess.run(["chattr", "-i", str(p)], check=True)


# -- the answer store, before the app ------------------------------------------------------------
def test_a_db_whose_parent_is_a_file_is_refused_before_the_app(rlwb, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    run = rlwb(
        "quiz", "--deck", "maze", "--db", str(tmp_path / "afile" / "q.sqlite"), timeout=QUICK
    )
    run.assert_refused("afile", "is a file", "--db")


def test_a_db_that_is_not_sqlite_is_refused_before_the_app(rlwb, tmp_path: Path) -> None:
    bad = tmp_path / "notes.sqlite"
    bad.write_text("my notes, not a database\n" * 50)
    before = _digest(bad)
    run = rlwb("quiz", "--deck", "maze", "--db", str(bad), timeout=QUICK)
    run.assert_refused(str(bad), "not a quiz database", "--db")
    assert _digest(bad) == before


def test_a_db_on_read_only_media_is_refused_before_the_app(rlwb, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    db = _quiz_db(folder / "q.sqlite")
    with _read_only(db, folder):
        run = rlwb("quiz", "--deck", "maze", "--db", str(db), timeout=QUICK)
    run.assert_refused(str(db), "read-only", "--db")


def test_a_db_locked_by_another_process_is_refused_before_the_app(rlwb, tmp_path: Path) -> None:
    db = _quiz_db(tmp_path / "q.sqlite")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        run = rlwb("quiz", "--deck", "maze", "--db", str(db), timeout=QUICK)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    run.assert_refused(str(db), "locked by another", "Close the other program")


def test_a_second_quiz_of_the_same_person_and_deck_is_refused(rlwb, tmp_path: Path) -> None:
    """The first quiz (a real process, holding its session) keeps its answers; the second is
    refused before it could write over them. Another person on the same database is not."""
    db = tmp_path / "q.sqlite"
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from rl_workbench.quiz.session import QuizSession
        from rl_workbench.quiz.store import AnswerStore
        from tests.tui.conftest import DECK, scripted_agents
        session = QuizSession(DECK, "ada", AnswerStore({str(db)!r}), scripted_agents(), seed=1)
        print("ready", flush=True)
        time.sleep(120)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        run = rlwb(
            "quiz", "--deck", str(_deck(tmp_path)), "--user", "ada", "--db", str(db),
            timeout=QUICK,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    run.assert_refused("ada", "tiny", "already")


# -- quiz stats: a read command ------------------------------------------------------------------
def test_stats_changes_nothing_in_the_database(rlwb, tmp_path: Path) -> None:
    db = _quiz_db(tmp_path / "q.sqlite")
    with sqlite3.connect(db) as con:  # a quiz database some other tool left in rollback mode
        con.execute("PRAGMA journal_mode=DELETE")
    before = _digest(db)
    run = rlwb("quiz", "stats", "--db", str(db), timeout=QUICK)
    assert run.code == 0, run.err
    assert "1 session, 2 answers" in run.out
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.sqlite"]


def test_stats_reads_a_database_on_read_only_media(rlwb, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    db = _quiz_db(folder / "q.sqlite")
    with _read_only(db, folder):
        run = rlwb("quiz", "stats", "--db", str(db), timeout=QUICK)
    assert run.code == 0, run.err
    assert "1 session, 2 answers" in run.out and "Traceback" not in run.err


def test_stats_refuses_a_sqlite_file_that_is_not_a_quiz_database(rlwb, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE photos (id INTEGER)")
    before = _digest(other)
    run = rlwb("quiz", "stats", "--db", str(other), timeout=QUICK)
    run.assert_refused(str(other), "not a quiz database")
    assert _digest(other) == before


def test_stats_refuses_garbage(rlwb, tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(bytes(range(256)) * 64)
    rlwb("quiz", "stats", "--db", str(bad), timeout=QUICK).assert_refused(
        str(bad), "not a quiz database"
    )


def test_stats_csv_does_not_overwrite_without_force(rlwb, tmp_path: Path) -> None:
    db = _quiz_db(tmp_path / "q.sqlite")
    out = tmp_path / "thesis-data.csv"
    out.write_text("weeks of work\n")
    run = rlwb("quiz", "stats", "--db", str(db), "--csv", str(out), timeout=QUICK)
    run.assert_refused(str(out), "--force")
    assert out.read_text() == "weeks of work\n"
    forced = rlwb("quiz", "stats", "--db", str(db), "--csv", str(out), "--force", timeout=QUICK)
    assert forced.code == 0, forced.err
    assert out.read_text().startswith("session,user,deck") and "2 answers written" in forced.out


# -- decks and YAML files, before the app --------------------------------------------------------
def test_a_deck_naming_a_missing_agent_is_refused_with_its_line(rlwb, tmp_path: Path) -> None:
    deck = _deck(tmp_path, agent="agents/nowhere.zip")
    run = rlwb("quiz", "--deck", str(deck), "--db", str(tmp_path / "q.sqlite"), timeout=QUICK)
    run.assert_refused(f"{deck}:3", "agent", "nowhere.zip")
    assert not (tmp_path / "q.sqlite").exists()


def test_a_deck_with_an_unknown_construct_target_is_refused(rlwb, tmp_path: Path) -> None:
    deck = _deck(tmp_path, target="banana")
    run = rlwb("quiz", "--deck", str(deck), "--db", str(tmp_path / "q.sqlite"), timeout=QUICK)
    run.assert_refused(f"{deck}:7", "banana", "corner", "down")


@pytest.mark.parametrize("kind", ["deck", "suite"])
def test_binary_garbage_as_a_yaml_file_is_one_line(rlwb, tmp_path: Path, kind: str) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    if kind == "deck":
        run = rlwb("quiz", "--deck", str(garbage), "--db", str(tmp_path / "q.sqlite"))
    else:
        run = rlwb(
            "audit", "--agent", "zoo:maze-uniform", "--suite", str(garbage),
            "--out", str(tmp_path / "report"),
        )  # fmt: skip
    run.assert_refused(str(garbage), "not a UTF-8 text file")
    assert "UnicodeDecodeError" not in run.err


# -- agents the deck names -----------------------------------------------------------------------
def _planted_agent(tmp_path: Path, marker: Path) -> Path:
    """The shipped maze agent with one extra pickled field that creates ``marker``."""
    import base64
    import json
    import pickle

    class _Plant:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    src = REPO / "rl_workbench" / "agents" / "zoo" / "maze-uniform" / "agent.zip"
    dst = tmp_path / "planted.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            payload = zin.read(info.filename)
            if info.filename == "data":
                data = json.loads(payload)
                data["extra"] = {
                    ":type:": "<class 'object'>",
                    ":serialized:": base64.b64encode(pickle.dumps(_Plant())).decode(),
                }
                payload = json.dumps(data).encode()
            zout.writestr(info, payload)
    return dst


def test_a_deck_agent_that_would_run_code_is_refused_before_the_app(rlwb, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    deck = _deck(tmp_path, agent=str(_planted_agent(tmp_path, marker)))
    run = rlwb("quiz", "--deck", str(deck), "--db", str(tmp_path / "q.sqlite"), timeout=QUICK)
    run.assert_refused("extra", "--trust-agent")
    assert not marker.exists()


def test_quiz_documents_trust_agent(rlwb) -> None:
    run = rlwb("quiz", "--help", timeout=QUICK)
    assert run.code == 0 and "--trust-agent" in run.out and "Runs code from the file" in run.out
