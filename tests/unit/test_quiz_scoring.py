"""Quiz scoring against hand-computed values, and the answer store's durability."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rl_workbench.quiz.scoring import (
    ConstructScore,
    NoChoiceError,
    calibration_table,
    confidence_distribution,
    score_prediction,
)
from rl_workbench.quiz.store import AnswerStore, StoreError


def test_prediction_scores_match_hand_computed_values() -> None:
    pi = [0.7, 0.2, 0.1, 0.0]
    q = confidence_distribution(0, 0.7, 4)  # [0.7, 0.1, 0.1, 0.1]
    np.testing.assert_allclose(q, [0.7, 0.1, 0.1, 0.1])
    score = score_prediction(q, pi, 0)
    # (0)^2 + (0.1)^2 + (0)^2 + (0.1)^2 = 0.02
    assert score.squared_distance == pytest.approx(0.02)
    assert score.top_choice_correct and score.stated_confidence == pytest.approx(0.7)
    wrong = score_prediction(confidence_distribution(3, 1.0, 4), pi, 3)
    # 0.49 + 0.04 + 0.01 + 1.0 = 1.54
    assert wrong.squared_distance == pytest.approx(1.54) and not wrong.top_choice_correct
    assert score_prediction(pi, pi, 0).squared_distance == 0.0  # perfect, even when unsure


def test_a_uniform_answer_is_scored_by_the_action_chosen_not_by_argmax() -> None:
    """Choosing RIGHT at 25% (q uniform over 4 actions) predicts RIGHT: it used to score as
    action 0 (UP), the uniform q's argmax (issue 14)."""
    pi = [0.1, 0.1, 0.1, 0.7]
    uniform = [0.25] * 4
    right = score_prediction(uniform, pi, 3)
    assert right.chosen_action == 3 and right.top_choice_correct
    assert right.stated_confidence == pytest.approx(0.25)
    assert not score_prediction(uniform, pi, 0).top_choice_correct


def test_a_prediction_without_a_choice_or_against_its_own_q_is_refused() -> None:
    with pytest.raises(NoChoiceError, match="Pick the action"):
        score_prediction([0.25] * 4, [0.25] * 4, None)
    with pytest.raises(NoChoiceError, match="more probability on another action"):
        score_prediction([0.1, 0.6, 0.2, 0.1], [0.25] * 4, 2)
    assert score_prediction([0.4, 0.4, 0.1, 0.1], [0.25] * 4, 1).chosen_action == 1  # a tie


def test_bad_predictions_are_refused() -> None:
    with pytest.raises(ValueError):
        score_prediction([0.5, 0.6, 0.0, 0.0], [0.25] * 4, 1)
    with pytest.raises(ValueError):
        confidence_distribution(0, 0.1, 4)  # below 1/4: not a top choice


def test_construct_score_ratio() -> None:
    assert ConstructScore(True, 3, 1).edit_ratio == 3.0
    assert ConstructScore(False, 3, 1).edit_ratio is None


def test_calibration_table_bins_answers() -> None:
    rows = calibration_table([0.3, 0.4, 0.9, 1.0], [False, True, True, True])
    by_bin = {r["bin"]: r for r in rows}
    assert by_bin["(0.25, 0.50]"]["answers"] == 2
    assert by_bin["(0.25, 0.50]"]["fraction_correct"] == 0.5
    assert by_bin["(0.75, 1.00]"]["mean_confidence"] == pytest.approx(0.95)


def test_calibration_table_counts_each_answer_once_even_on_an_edge() -> None:
    stated = [0.25, 0.5, 0.75, sum([0.05] * 15), 1.0, 0.7, 0.3, 0.9]  # the sum is 0.75000...01
    rows = calibration_table(stated, [True] * 8)
    assert sum(r["answers"] for r in rows) == 8
    by_bin = {r["bin"]: r["answers"] for r in rows}
    assert by_bin == {"(0.00, 0.25]": 1, "(0.25, 0.50]": 2, "(0.50, 0.75]": 3, "(0.75, 1.00]": 2}


def test_store_keeps_every_answer_and_resumes(tmp_path: Path) -> None:
    store = AnswerStore(tmp_path / "q.sqlite")
    s = store.open_session("ada", "maze", "h1", "explain", seed=3)
    store.record(s.id, 0, "test", "predict", {"seed": 1}, {"q": [1, 0]}, [0.9, 0.1], {"x": 1}, 0.0)
    store.close()
    again = AnswerStore(tmp_path / "q.sqlite")
    resumed = again.open_session("ada", "maze", "h1", "control", seed=9)
    assert resumed.id == s.id and resumed.condition == "explain"  # the assigned condition stays
    assert again.answered(s.id) == {0}
    again.finish_session(s.id)
    assert again.open_session("ada", "maze", "h1", "control", seed=9).id != s.id
    assert [r["agent_probs"] for r in again.rows("ada")] == [[0.9, 0.1]]


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not sqlite at all, " * 100)
    with pytest.raises(StoreError, match="is not a quiz database"):
        AnswerStore(bad)


def test_killing_the_process_loses_no_committed_answer(tmp_path: Path) -> None:
    """A real SIGKILL while answers are being written: every answer reported as committed is
    in the file afterwards."""
    db = tmp_path / "kill.sqlite"
    script = textwrap.dedent(
        f"""
        import sys, time
        from rl_workbench.quiz.store import AnswerStore
        store = AnswerStore({str(db)!r})
        s = store.open_session("bob", "d", "h", "control", 0)
        for i in range(100000):
            store.record(s.id, i, "test", "predict", {{}}, {{}}, None, {{}}, time.time())
            print(i, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    committed = -1
    deadline = time.time() + 30
    while committed < 50 and time.time() < deadline:
        committed = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rows = AnswerStore(db).rows("bob")
    assert len(rows) >= committed + 1
    assert [r["item_index"] for r in rows] == list(range(len(rows)))
