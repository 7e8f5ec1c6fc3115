"""What a study with remote participants adds to a deck: consent before anything is stored,
attention checks, the debrief and the completion code, one session per participant."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from rl_workbench.quiz.app import create_app, screen_text
from rl_workbench.quiz.deck import DeckError, Phase, parse_deck
from rl_workbench.quiz.session import QuizSession
from rl_workbench.quiz.stats import format_summary, summarise
from rl_workbench.quiz.store import AnswerStore
from tests.tui.conftest import DECK, scripted_agents
from tests.tui.pilot import wait_for_screen
from tests.tui.test_quiz_app import answer_until

pytestmark = pytest.mark.anyio

STUDY = replace(
    DECK,
    name="study",
    phases=(
        Phase("predict", 1, feedback=False),
        Phase(
            "attention", 1, question="Choose Blue.", options=("Red", "Green", "Blue"), answer="Blue"
        ),
    ),
    consent="We keep your answers, not your name.",
    debrief="The agent was trained with the cheese anywhere.",
    completion_code="C0DE-42",
    digest="study-1",
)


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_declining_consent_ends_the_quiz_with_nothing_about_the_person_stored(
    db: Path,
) -> None:
    app = create_app(STUDY, "ada", db, agents=scripted_agents(), seed=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_screen(pilot, app, "ConsentScreen")
        assert "We keep your answers, not your name." in screen_text(app)
        await pilot.press("n")
        await pilot.pause(0.1)
    assert app.declined
    for table in ("consents", "participants", "sessions", "answers"):
        assert _count(db, table) == 0, table
    # the session lock was released: the same person can come back and agree
    again = create_app(STUDY, "ada", db, agents=scripted_agents(), seed=1)
    assert again.needs_consent
    again.on_unmount()


async def test_consent_then_attention_check_then_debrief_and_completion_code(db: Path) -> None:
    app = create_app(STUDY, "ada", db, agents=scripted_agents(), seed=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_screen(pilot, app, "ConsentScreen")
        assert _count(db, "participants") == 0  # no arm is drawn before the agreement
        await pilot.press("y")
        await answer_until(pilot, app, "AttentionScreen")
        await pilot.press("enter")  # nothing picked: refused, nothing stored
        await pilot.pause(0.05)
        assert "Pick an option first" in screen_text(app)
        assert _count(db, "answers") == 1
        await pilot.press("2", "enter")  # Green: a failed check
        await wait_for_screen(pilot, app, "ResultsScreen")
        text = screen_text(app)
        assert "Your completion code: C0DE-42" in text
        assert "The agent was trained with the cheese anywhere." in text
        assert "Construct" not in text and "Spot" not in text  # the deck has neither phase
    with sqlite3.connect(db) as con:
        (consents,) = con.execute("SELECT COUNT(*) FROM consents WHERE user='ada'").fetchone()
        kinds = [r[0] for r in con.execute("SELECT kind FROM answers ORDER BY item_index")]
        (score,) = con.execute("SELECT score FROM answers WHERE kind='attention'").fetchone()
    assert consents == 1 and kinds == ["predict", "attention"]
    assert '"passed": false' in score
    # a second visit does not ask again; the study's single session shows the closing screen
    back = create_app(STUDY, "ada", db, agents=scripted_agents(), single_session=True)
    assert not back.needs_consent
    async with back.run_test(size=(100, 30)) as pilot:
        await wait_for_screen(pilot, back, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, back, "ResultsScreen")
        assert "C0DE-42" in screen_text(back)
    assert _count(db, "sessions") == 1


def test_a_changed_consent_text_is_asked_again(db: Path) -> None:
    store = AnswerStore(db)
    store.record_consent("ada", STUDY.name, STUDY.consent_digest)
    store.close()
    changed = replace(STUDY, consent="New terms: we also keep your timings.")
    app = create_app(changed, "ada", db, agents=scripted_agents())
    assert app.needs_consent
    app.on_unmount()
    same = create_app(STUDY, "ada", db, agents=scripted_agents())
    assert not same.needs_consent
    same.on_unmount()


def test_quiz_stats_counts_failed_attention_checks_and_can_leave_those_people_out(
    db: Path,
) -> None:
    deck = replace(STUDY, consent=None)
    store = AnswerStore(db)
    for user, pick in (("ada", "Blue"), ("bob", "Red"), ("cy", "Blue")):
        session = QuizSession(deck, user, store, scripted_agents(), seed=3)
        predict = session.item(0)
        session.answer_predict(predict, [1.0, 0.0, 0.0, 0.0], 0)
        session.answer_attention(session.item(1), pick)
        session.close()
    store.close()
    read = AnswerStore(db, read_only=True)
    kept = summarise(read)
    dropped = summarise(read, exclude_inattentive=True)
    assert kept["attention"]["failed"] == ["bob"] and kept["people"] == 3
    assert dropped["people"] == 2 and "bob" not in dropped["by_person"]
    assert "1 of 3 participants failed one, excluded from every figure: bob" in format_summary(
        dropped
    )


def test_attention_phases_are_checked_in_the_deck() -> None:
    base = "name: d\nenv: rlwb/Maze-v0\nagent: zoo:maze-uniform\nphases:\n"
    good = base + (
        "  - kind: attention\n    question: Pick two.\n    options: [one, two]\n    answer: two\n"
    )
    (phase,) = parse_deck(good).phases
    assert phase.kind == "attention" and phase.items == 1 and phase.answer == "two"
    cases = {
        "answer: three": "one of the options",
        "answer: two\n    items: 3": "not on attention phases",
        "answer: two\n    options: [one]": None,  # duplicate key: the YAML reader refuses it
    }
    for tail, expected in cases.items():
        text = base + "  - kind: attention\n    question: Q\n    options: [one, two]\n    " + tail
        with pytest.raises(DeckError) as err:
            parse_deck(text + "\n", "deck.yaml")
        if expected:
            assert expected in str(err.value), str(err.value)
    with pytest.raises(DeckError, match="only on attention phases"):
        parse_deck(base + "  - kind: predict\n    question: Q\n", "deck.yaml")
    with pytest.raises(DeckError, match="completion_code"):
        parse_deck(base + "  - kind: predict\ncompletion_code: 'has space'\n", "deck.yaml")


def test_the_shipped_online_deck_has_what_a_remote_study_needs() -> None:
    from rl_workbench.quiz.deck import resolve_deck

    deck = resolve_deck("maze-online")
    assert deck.consent and deck.debrief and deck.completion_code == "EXAMPLE-CODE"
    (check,) = [p for p in deck.phases if p.kind == "attention"]
    assert check.answer == "Purple" and check.answer in check.options
