"""Person-level statistics: intervals that cover a planted effect about 95% of the time, a
permutation test that rejects about 5% of the time when there is none, no interval from one
person, and a CSV with one column per field."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from rl_workbench.quiz.stats import (
    export_csv,
    format_summary,
    permutation_p_value,
    person_difference_interval,
    person_mean_interval,
    person_means,
    student_t_quantile,
    summarise,
)
from rl_workbench.quiz.store import AnswerStore


def _study(rng: np.random.Generator, effect: float, people: int = 10, items: int = 8) -> list:
    """Answer rows of a simulated two-arm study: each person has their own skill (a person-level
    effect as large as the item noise), so answers within a person are correlated."""
    rows = []
    for arm, shift in (("explain", effect), ("control", 0.0)):
        for k in range(people):
            skill = rng.normal(0.5, 0.15)
            for _ in range(items):
                rows.append({"user": f"{arm}{k}", "condition": arm,
                             "d": skill + shift + rng.normal(0, 0.15)})  # fmt: skip
    return rows


def _difference(rows: list, seed: int) -> tuple:
    arms = [
        list(person_means([r for r in rows if r["condition"] == c], lambda r: r["d"]).values())
        for c in ("explain", "control")
    ]
    return person_difference_interval(*arms), permutation_p_value(*arms, reps=400, seed=seed)


def test_the_interval_covers_a_planted_effect_and_the_test_holds_its_level() -> None:
    rng = np.random.default_rng(0)
    covered = rejected_null = 0
    studies = 400
    for k in range(studies):
        (_, low, high), _ = _difference(_study(rng, -0.1), k)
        covered += low <= -0.1 <= high
        _, p = _difference(_study(rng, 0.0), k)
        rejected_null += p < 0.05
    # 400 studies: a 95% interval covers 380 +- 9 of them (answer-level resampling: see below);
    # a 5% test rejects 20 +- 4.4 null studies
    assert 0.91 <= covered / studies <= 0.98
    assert rejected_null / studies <= 0.08


def test_t_quantiles_match_the_tables() -> None:
    for df, q in ((1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045), (1e6, 1.960)):
        assert student_t_quantile(0.975, df) == pytest.approx(q, abs=1e-3)
    assert student_t_quantile(0.025, 4) == pytest.approx(-2.776, abs=1e-3)
    assert student_t_quantile(0.5, 3.3) == pytest.approx(0.0, abs=1e-6)


def test_three_people_per_arm_still_cover_about_95_percent() -> None:
    """Where a percentile bootstrap of person means covered ~83% (stats.py), the t interval
    holds its level: 400 studies of 3 people per arm."""
    rng = np.random.default_rng(2)
    covered = 0
    for k in range(400):
        (_, low, high), _ = _difference(_study(rng, -0.1, people=3), k)
        covered += low <= -0.1 <= high
    assert 0.91 <= covered / 400 <= 0.99


def test_answer_level_resampling_would_have_been_overconfident() -> None:
    """The control that makes the coverage test mean something: the same studies resampled by
    answer (the old method) miss the planted effect far more often than 5%."""
    rng = np.random.default_rng(1)
    missed = 0
    for k in range(60):
        rows = _study(rng, -0.1)
        a = np.array([r["d"] for r in rows if r["condition"] == "explain"])
        b = np.array([r["d"] for r in rows if r["condition"] == "control"])
        g = np.random.default_rng(k)
        boot = [g.choice(a, a.size).mean() - g.choice(b, b.size).mean() for _ in range(400)]
        low, high = np.quantile(boot, [0.025, 0.975])
        missed += not low <= -0.1 <= high
    assert missed / 60 > 0.2


def test_one_person_per_arm_gives_no_interval_and_no_test() -> None:
    assert person_mean_interval([0.4]) == (0.4, None, None)
    diff, low, high = person_difference_interval([0.2], [0.4])
    assert diff == pytest.approx(-0.2) and low is None and high is None
    assert permutation_p_value([0.2], [0.4]) is None


def _record_predict(store: AnswerStore, sid: int, index: int, chosen: int, pi: list) -> None:
    q = [0.1] * 4
    q[chosen] = 0.7
    d = float(np.sum((np.array(q) - np.array(pi)) ** 2))
    store.record(
        sid, index, "1:predict", "predict", {"seed": index, "condition": "x"},
        {"q": q, "chosen_action": chosen}, pi,
        {"squared_distance": d, "top_choice_correct": chosen == int(np.argmax(pi)),
         "chosen_action": chosen, "stated_confidence": 0.7},
        1.0, 2.0, columns={"chosen_action": chosen, "stated_confidence": 0.7,
                           "state_digest": f"d{index}"},
    )  # fmt: skip


def test_summary_counts_people_per_arm_and_the_csv_is_flat(tmp_path: Path) -> None:
    store = AnswerStore(tmp_path / "q.sqlite")
    pi = [0.1, 0.1, 0.7, 0.1]
    for user, arm, right in (("ada", "explain", 3), ("bob", "explain", 2), ("cy", "control", 1)):
        s = store.open_session(user, "maze", "h", arm, 0)
        for i in range(4):
            _record_predict(store, s.id, i, 2 if i < right else 0, pi)
        store.record(s.id, 9, "0:study", "study", {"seed": 1}, {"viewed": True}, pi, {}, 1.0, 2.0,
                     columns={"explanation_shown": int(arm == "explain")})  # fmt: skip
    summary = summarise(store)
    assert summary["by_condition"]["explain"]["people"] == 2
    assert summary["by_condition"]["control"]["people"] == 1
    # accuracy is a mean over people (3/4 and 2/4), not over the 8 answers pooled
    assert summary["by_condition"]["explain"]["accuracy"][0] == pytest.approx(0.625)
    assert summary["by_condition"]["explain"]["explanations_shown"] == 2
    assert summary["explain_minus_control"][1] is None  # one control person: no interval
    text = format_summary(summary)
    assert text.splitlines()[0] == "participants per arm: control 1, explain 2"
    assert "[n/a: < 3 people, or no spread]" in text
    out = tmp_path / "a.csv"
    assert export_csv(store, out) == 15
    with open(out) as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    assert {"chosen_action", "stated_confidence", "answer.q.0", "answer.q.3", "pi.2",
            "score.squared_distance", "explanation_shown"} <= set(header)  # fmt: skip
    assert not any(v.startswith(("{", "[")) for r in rows for v in r.values())  # no JSON blobs
    first = rows[0]
    assert first["chosen_action"] == "2" and first["answer.q.2"] == "0.7"


def test_power_finds_the_analytic_sample_size_and_holds_its_level_with_no_effect() -> None:
    from rl_workbench.quiz.power import PowerModel, people_needed, power_at

    model = PowerModel(effect=-0.2, sd_person=0.1, sd_item=0.25, items=8)
    needed, tried = people_needed(model, studies=200)
    # a person's mean varies by sqrt(0.1² + 0.25²/8) = 0.133; a two-sided 5% test with 80%
    # power needs n >= 2 (1.96 + 0.84)² 0.133² / 0.2² = 7 per arm (z), a little more exactly
    assert needed is not None and 7 <= needed <= 10
    assert dict(tried)[needed] >= 0.8
    assert power_at(PowerModel(effect=0.0), 10, studies=300) <= 0.09  # no effect: ~5%


def test_a_pilot_gives_the_spreads_it_was_drawn_with() -> None:
    from rl_workbench.quiz.power import variance_components

    rng = np.random.default_rng(3)
    rows = []
    for k in range(60):
        mean = rng.normal(0.5, 0.1)
        rows += [{"kind": "predict", "user": f"p{k}", "score": {"squared_distance": v}}
                 for v in rng.normal(mean, 0.25, 8)]  # fmt: skip
    found = variance_components(rows)
    assert found is not None
    sd_person, sd_item, items = found
    assert abs(sd_item - 0.25) < 0.03 and abs(sd_person - 0.1) < 0.05 and items == 8
