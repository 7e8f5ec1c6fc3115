"""Proper scoring of people's predictions against the agent's own distribution.

A person's answer is a distribution q over actions (picking an action with a confidence c puts c
on it and spreads 1 - c evenly over the rest). It is scored against the agent's distribution π,
never against a "right" move: ``‖q - π‖²`` is the part of the expected Brier score a person
controls (0 is perfect, even for a random agent), and top-choice accuracy asks whether the
action the person chose is argmax π. See REFERENCES.md, "Quizzing people".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Distribution = Sequence[float] | np.ndarray
"""A distribution over the agent's actions, as a list or an array."""


def confidence_distribution(choice: int, confidence: float, n_actions: int) -> np.ndarray:
    """q with ``confidence`` on ``choice`` and the rest spread evenly over the other actions."""
    if not 0 <= choice < n_actions:
        raise ValueError(f"choice must be in 0..{n_actions - 1}, got {choice}")
    if not 1 / n_actions - 1e-9 <= confidence <= 1:
        raise ValueError(f"confidence must be in [1/{n_actions}, 1], got {confidence}")
    q = np.full(n_actions, (1 - confidence) / (n_actions - 1))
    q[choice] = confidence
    return q


def squared_distance(q: Distribution, pi: Distribution) -> float:
    """‖q - π‖²: 0 when the person's distribution is the agent's; at most 2."""
    q_arr, pi_arr = np.asarray(q, dtype=float), np.asarray(pi, dtype=float)
    return float(((q_arr - pi_arr) ** 2).sum())


def top_choice_correct(choice: int, pi: Distribution) -> bool:
    """Whether the action the person chose is the agent's most likely one."""
    return int(choice) == int(np.argmax(pi))


@dataclass(frozen=True)
class PredictScore:
    """One prediction's scores.

    Attributes:
        chosen_action: the action the person picked (their answer to "what will it do?").
        stated_confidence: the probability they put on it.
        squared_distance: ‖q - π‖² of their whole distribution.
        top_choice_correct: whether ``chosen_action`` is the agent's most likely action.
    """

    chosen_action: int
    stated_confidence: float
    squared_distance: float
    top_choice_correct: bool

    def to_dict(self) -> dict[str, float | bool | int]:
        return {
            "chosen_action": self.chosen_action,
            "stated_confidence": self.stated_confidence,
            "squared_distance": self.squared_distance,
            "top_choice_correct": self.top_choice_correct,
        }


class NoChoiceError(ValueError):
    """A prediction without a chosen action, or with more probability on another action."""


def score_prediction(q: Distribution, pi: Distribution, chosen: int | None) -> PredictScore:
    """Score a prediction: the person's q and the action they chose.

    Why the choice is passed, not read from q: a q left at the picker's start is uniform, and
    its argmax (action 0) had been scored as the person's choice (issue 14). The chosen action
    must carry the most probability in q (ties allowed), so the two never disagree.

    Raises:
        NoChoiceError: ``chosen`` is None, or q puts more on another action.
        ValueError: q is not a distribution over the agent's actions.
    """
    q_arr = np.asarray(q, dtype=float)
    if q_arr.shape != np.asarray(pi).shape or abs(q_arr.sum() - 1) > 1e-6 or (q_arr < 0).any():
        raise ValueError("a prediction must be a distribution over the agent's actions")
    if chosen is None:
        raise NoChoiceError("Pick the action you expect first.")
    if not 0 <= chosen < q_arr.size:
        raise ValueError(f"the chosen action must be in 0..{q_arr.size - 1}, got {chosen}")
    if q_arr[chosen] < q_arr.max() - 1e-9:
        raise NoChoiceError(
            "Your answer puts more probability on another action than on the one you picked: "
            "pick that one, or move probability to yours."
        )
    return PredictScore(
        int(chosen),
        float(q_arr[chosen]),
        squared_distance(q, pi),
        top_choice_correct(chosen, pi),
    )


@dataclass(frozen=True)
class ConstructScore:
    """One construction attempt: did the agent do the target, and how many edits it took."""

    success: bool
    edits: int
    fewest_edits: int | None

    @property
    def edit_ratio(self) -> float | None:
        """Edits used / the fewest possible (1.0 is optimal), for successes only."""
        if not self.success or not self.fewest_edits:
            return None
        return self.edits / self.fewest_edits

    def to_dict(self) -> dict[str, object]:
        return {
            "success": self.success,
            "edits": self.edits,
            "fewest_edits": self.fewest_edits,
            "edit_ratio": self.edit_ratio,
        }


def calibration_table(
    confidences: Distribution,
    correct: Sequence[bool],
    bins: Distribution = (0.25, 0.5, 0.75, 1.0),
) -> list[dict[str, Any]]:
    """Rows (bin upper edge, answers, mean stated confidence, fraction correct).

    Every answer lands in exactly one bin: the first whose upper edge it does not exceed, with a
    small tolerance so a confidence of 0.75 reached by adding 0.05 steps (0.7500000000000001,
    as the picker does) counts in (0.50, 0.75] and only there (issue 14: it was counted in two
    bins).
    """
    c = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    edges = np.asarray(bins, dtype=float)
    which = np.minimum(np.searchsorted(edges, c - 1e-9, side="left"), len(edges) - 1)
    rows = []
    low = 0.0
    for k, high in enumerate(bins):
        in_bin = which == k
        n = int(in_bin.sum())
        rows.append(
            {
                "bin": f"({low:.2f}, {high:.2f}]",
                "answers": n,
                "mean_confidence": float(c[in_bin].mean()) if n else None,
                "fraction_correct": float(ok[in_bin].mean()) if n else None,
            }
        )
        low = high
    return rows
