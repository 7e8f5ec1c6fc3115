"""The answer database failing during a quiz: the person is told, the answer is kept and retried,
nothing claims to be saved that was not, and one person's session runs in one process only."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rl_workbench.quiz import store as store_module
from rl_workbench.quiz.app import QuizApp, create_app, screen_text
from rl_workbench.quiz.session import QuizSession
from rl_workbench.quiz.store import AnswerStore, SessionLockedError
from tests.tui.conftest import DECK, scripted_agents
from tests.tui.pilot import wait_for_screen


@pytest.fixture(autouse=True)
def _short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A locked database is given up on after 0.1 s instead of 2 s, to keep the tests fast."""
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.1)


class _Locker:
    """Another program holding the database's write lock (``BEGIN EXCLUSIVE``)."""

    def __init__(self, db: Path) -> None:
        self.con = sqlite3.connect(db, isolation_level=None)

    def lock(self) -> None:
        self.con.execute("BEGIN EXCLUSIVE")

    def unlock(self) -> None:
        self.con.execute("ROLLBACK")


@pytest.fixture
def locker(db: Path) -> Iterator[_Locker]:
    AnswerStore(db).close()  # the quiz database exists before the other program opens it
    holder = _Locker(db)
    yield holder
    holder.con.close()


def _stored(db: Path, user: str = "ada") -> list[str]:
    return [r["kind"] for r in AnswerStore(db, read_only=True).rows(user)]


def _flat(app: QuizApp) -> str:
    """The screen's words with line breaks and box borders gone (notifications wrap)."""
    return " ".join(w for w in screen_text(app).split() if w.strip("▌▐▊▎│"))


def _app(db: Path) -> QuizApp:
    return create_app(DECK, "ada", db, agents=scripted_agents(), condition="explain", seed=7)


@pytest.mark.anyio
async def test_a_refused_answer_is_shown_kept_and_stored_with_the_next_one(
    db: Path, locker: _Locker
) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "StudyScreen")
        locker.lock()
        await pilot.press("enter")  # the study item is answered while the database is locked
        await wait_for_screen(pilot, app, "PredictScreen")
        text = _flat(app)
        assert "Answer not stored" in text and "database is locked" in text, text
        assert "retried" in text
        assert app.session is not None and len(app.session.pending) == 1
        assert _stored(db) == []
        locker.unlock()
        await pilot.press("1", "enter")  # the predict item; the study answer goes in first
        await pilot.pause(0.1)
        assert "everything is stored" in _flat(app) and "not stored" not in _flat(app)
        assert app.session.pending == []
        assert _stored(db) == ["study", "predict"]
    assert app.close_report is not None and app.close_report.unsaved == 0


@pytest.mark.anyio
async def test_answers_still_refused_at_the_end_are_written_to_a_file(
    db: Path, locker: _Locker
) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "StudyScreen")
        locker.lock()
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "PredictScreen")
        await pilot.press("3", "enter")
        await pilot.pause(0.1)
        await pilot.press("q")
    report = app.close_report
    assert report is not None and report.unsaved == 2 and "locked" in (report.problem or "")
    assert report.dump is not None and report.dump.parent == db.parent
    kept = json.loads(report.dump.read_text())
    assert [a["kind"] for a in kept["answers"]] == ["study", "predict"]
    assert kept["answers"][1]["answer"]["q"][2] == max(kept["answers"][1]["answer"]["q"])
    assert kept["session"]["user"] == "ada" and kept["database"] == str(db)
    locker.unlock()
    assert _stored(db) == []  # honest: the file, not the database, has them
    again = _app(db)  # the next quiz of the same person stores them and resumes after them
    assert _stored(db) == ["study", "predict"] and not report.dump.exists()
    assert again.session is not None and again.session.next_index == 2
    again.session.close()


def test_the_cli_says_how_many_answers_were_not_stored_and_where(
    db: Path, locker: _Locker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rlwb quiz`` never prints "Answers saved" for answers the database refused."""
    from click.testing import CliRunner

    from rl_workbench import cli as cli_module
    from rl_workbench.quiz import app as app_module

    deck = tmp_path / "deck.yaml"
    deck.write_text(
        "name: tiny\nenv: rlwb/Maze-v0\nagent: zoo:maze-uniform\nphases:\n  - kind: study\n"
        "    items: 1\n"
    )

    def answer_one_while_locked(self: QuizApp) -> None:
        assert self.session is not None
        locker.lock()
        self.session.answer_view(self.session.item(0))

    monkeypatch.setattr(app_module, "load_quiz_agents", lambda deck, trust=False: scripted_agents())
    monkeypatch.setattr(app_module.QuizApp, "run", answer_one_while_locked)
    result = CliRunner().invoke(
        cli_module.cli, ["quiz", "--deck", str(deck), "--user", "ada", "--db", str(db)]
    )
    locker.unlock()
    assert result.exit_code == 2, result.output
    assert "Answers saved" not in result.output
    assert "1 answer(s) not stored in" in result.output and "database is locked" in (result.output)
    dumps = list(db.parent.glob("quiz.sqlite.unsaved-ada-*.json"))
    assert len(dumps) == 1 and str(dumps[0]) in result.output.replace("\n", "")
    assert [a["kind"] for a in json.loads(dumps[0].read_text())["answers"]] == ["study"]


def test_one_persons_session_of_a_deck_runs_in_one_process(db: Path) -> None:
    store = AnswerStore(db)
    first = QuizSession(DECK, "ada", store, scripted_agents(), seed=1)
    with pytest.raises(SessionLockedError, match=r"ada is already taking the deck 'tiny'"):
        QuizSession(DECK, "ada", AnswerStore(db), scripted_agents(), seed=1)
    other = QuizSession(DECK, "bo", AnswerStore(db), scripted_agents(), seed=1)  # not refused
    assert other.session.id != first.session.id
    first.close()
    again = QuizSession(DECK, "ada", AnswerStore(db), scripted_agents(), seed=1)
    assert again.session.id == first.session.id  # the same unfinished session resumes
    again.close()
    other.close()
    assert sorted(p.name for p in db.parent.iterdir() if "lock" in p.name) == []


def test_a_lock_file_left_by_a_killed_quiz_does_not_block(db: Path) -> None:
    store = AnswerStore(db)
    stale = store.lock_session("ada", "tiny")
    stale._file.close()  # what SIGKILL does: the kernel drops the lock, the file stays
    stale._file = None
    assert stale.path.exists()
    session = QuizSession(DECK, "ada", store, scripted_agents(), seed=1)
    session.close()
