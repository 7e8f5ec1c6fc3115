"""``rlwb quiz power``: how many participants per arm a study needs to detect an effect.

Why simulation and not a formula: the analysis is the one ``rlwb quiz stats`` runs (person means,
a Welch interval of explain - control), and its power depends on how much people
differ from each other as well as on how noisy single answers are. Each simulated study draws
every participant's own mean ‖q - π‖² around their arm's (spread ``sd_person``), their answers
around it (spread ``sd_item``), and counts a detection when ``rlwb quiz stats``'s permutation
test of explain - control over participants gives p < 0.05 (exact at any size). The
spreads come from a pilot's answers when one is given (a one-way variance-components estimate),
else from stated defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .stats import permutation_p_value

ALPHA = 0.05
DEFAULT_SD_PERSON = 0.10
DEFAULT_SD_ITEM = 0.25
"""Defaults when no pilot is given: answers' ‖q - π‖² spread ~0.25 within a person (values run
0-2) and people's means ~0.10 apart; a pilot's own figures are better."""


@dataclass(frozen=True)
class PowerModel:
    """What a simulated study is drawn from.

    Attributes:
        effect: explain - control in mean ‖q - π‖² (negative: explanations help).
        sd_person: spread of participants' own means within an arm.
        sd_item: spread of one participant's answers around their mean.
        items: predict answers per participant.
    """

    effect: float
    sd_person: float = DEFAULT_SD_PERSON
    sd_item: float = DEFAULT_SD_ITEM
    items: int = 8


def variance_components(rows: list[dict[str, Any]]) -> tuple[float, float, int] | None:
    """(sd_person, sd_item, items per person) of a pilot's predict answers, by the one-way
    ANOVA estimator; None with fewer than two participants of two or more answers."""
    by_person: dict[str, list[float]] = {}
    for r in rows:
        if r["kind"] == "predict":
            by_person.setdefault(r["user"], []).append(float(r["score"]["squared_distance"]))
    groups = [np.asarray(v) for v in by_person.values() if len(v) >= 2]
    if len(groups) < 2:
        return None
    n = float(np.mean([len(g) for g in groups]))
    within = float(np.mean([g.var(ddof=1) for g in groups]))
    between = float(np.var([g.mean() for g in groups], ddof=1))
    sd_person = float(np.sqrt(max(between - within / n, 0.0)))
    return sd_person, float(np.sqrt(within)), round(n)


def power_at(model: PowerModel, people: int, *, studies: int = 200, seed: int = 0) -> float:
    """The share of simulated studies with ``people`` per arm where the permutation test
    rejects no effect at :data:`ALPHA`."""
    rng = np.random.default_rng(seed)
    hits = 0
    for k in range(studies):
        arms = []
        for shift in (model.effect, 0.0):
            means = rng.normal(shift, model.sd_person, people)
            answers = rng.normal(means[:, None], model.sd_item, (people, model.items))
            arms.append(answers.mean(axis=1))
        p = permutation_p_value(arms[0], arms[1], reps=400, seed=k)
        hits += p is not None and p < ALPHA
    return hits / studies


def people_needed(
    model: PowerModel, *, target: float = 0.8, most: int = 400, studies: int = 200, seed: int = 0
) -> tuple[int | None, list[tuple[int, float]]]:
    """The fewest participants per arm with power >= ``target`` (None: not within ``most``),
    and every (people, power) tried, by doubling then bisection."""
    tried: list[tuple[int, float]] = []

    def power(n: int) -> float:
        p = power_at(model, n, studies=studies, seed=seed)
        tried.append((n, p))
        return p

    low, high = 2, 2
    while power(high) < target:
        if high >= most:
            return None, tried
        low, high = high, min(2 * high, most)
    while high - low > 1:
        mid = (low + high) // 2
        if power(mid) >= target:
            high = mid
        else:
            low = mid
    return high, sorted(set(tried))
