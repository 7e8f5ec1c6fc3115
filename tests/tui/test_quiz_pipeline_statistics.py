"""The statistics recover what was planted, through the real pipeline: simulated participants
assigned by the real block randomisation, answering real sessions into the real store, analysed
by ``quiz stats``' person-level functions (issue 14: coverage of a planted explain - control
effect, and no effect found when there is none)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from rl_workbench.quiz.deck import Phase
from rl_workbench.quiz.simulate import planted_effect, simulate
from rl_workbench.quiz.stats import summarise
from rl_workbench.quiz.store import AnswerStore
from tests.tui.conftest import DECK, scripted_agents

PREDICT_ONLY = replace(DECK, name="planted", phases=(Phase("predict", 4, feedback=False),))
STUDIES = 100
PEOPLE = 10  # 5 per arm by the block assignment


def _studies(tmp_path: Path, lows: dict[str, float]) -> list[dict]:
    agents = scripted_agents()
    summaries = []
    for k in range(STUDIES):
        store = AnswerStore(tmp_path / f"study-{k}.sqlite")
        simulate(PREDICT_ONLY, agents, store, participants=PEOPLE, kinds=("planted",), seed=k,
                 planted_lows=lows)  # fmt: skip
        store.close()
        summaries.append(summarise(AnswerStore(tmp_path / f"study-{k}.sqlite", read_only=True)))
    return summaries


def test_a_planted_effect_is_covered_by_the_interval_about_95_percent_of_the_time(
    tmp_path: Path,
) -> None:
    lows = {"explain": 0.3, "control": 0.5}
    spread = 0.75  # ‖uniform - π‖² for the scripted agent, sure of one of four actions
    truth = planted_effect(lows, spread)
    summaries = _studies(tmp_path, lows)
    assert all(sorted(b["people"] for b in s["by_condition"].values()) == [5, 5] for s in summaries)
    estimates = np.array([s["explain_minus_control"] for s in summaries], dtype=float)
    covered = (estimates[:, 1] <= truth) & (truth <= estimates[:, 2])
    print(
        f"coverage {covered.mean():.2f}, mean estimate {estimates[:, 0].mean():.3f} vs {truth:.3f}"
    )
    assert abs(estimates[:, 0].mean() - truth) < 0.03  # unbiased around the planted -0.18
    assert covered.mean() >= 0.90, covered.mean()  # nominal 95%: 97 of 100 measured (Welch)
    significant = np.array([s["explain_minus_control_p"] < 0.05 for s in summaries])
    assert significant.mean() >= 0.5, significant.mean()  # found far more often than by chance


def test_no_effect_is_found_when_none_was_planted(tmp_path: Path) -> None:
    summaries = _studies(tmp_path, {"explain": 0.4, "control": 0.4})
    p_values = np.array([s["explain_minus_control_p"] for s in summaries])
    print(f"rejections under no effect {(p_values < 0.05).mean():.2f}")
    assert (p_values < 0.05).mean() <= 0.12  # the test's 5% level, with 100 studies' noise
