"""The outcome of one counterfactual: both levels, both distributions, the verdict, the cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rl_workbench.domains.base import Domain
from rl_workbench.envs.maze import MazeState


def count_edits(a: MazeState, b: MazeState) -> int:
    """Atomic edits between two levels: one per toggled wall cell, moved cheese/mouse/sign."""
    if a.walls.shape != b.walls.shape:
        raise ValueError("levels of different world sizes cannot be compared")
    walls = int((a.walls != b.walls).sum())
    return walls + int(a.cheese != b.cheese) + int(a.mouse != b.mouse) + int(a.sign != b.sign)


@dataclass(frozen=True)
class Result:
    """One counterfactual, judged on the decoded, legal, re-encoded level.

    Attributes:
        method: the method's registry name.
        target: the target's label ("any", an action name, "value-high", ...).
        original_state: the level explained.
        counterfactual_state: the legal level the method proposed (None when it found none).
        original_action: the agent's argmax action on the original.
        counterfactual_action: its argmax action on the counterfactual (None without one).
        probs_before: the agent's distribution on the original [A].
        probs_after: its distribution on the counterfactual [A] (None without one).
        value_before: the critic's value on the original (None without a critic).
        value_after: the critic's value on the counterfactual.
        valid: the target is met on the counterfactual level (never for target = original).
        edits: atomic edits from the original to the counterfactual.
        on_distribution: whether the generator of the agent's levels could have made it.
        seconds: wall time of the method.
        generator_calls: UNet evaluations spent.
        agent_calls: observations the agent evaluated.
        edits_in_words: each edit said in words, for methods that edit named things
            (``objects``: "invader row 3 from the bottom, column 2 removed"); empty otherwise.
        behaviour: for behaviour targets (``reach:cheese``), what the greedy rollouts reached
            first before and after and the share of sampled rollouts reaching the goal first;
            None for action-level targets.
    """

    method: str
    target: str
    original_state: Any
    counterfactual_state: Any | None
    original_action: int
    counterfactual_action: int | None
    probs_before: np.ndarray
    probs_after: np.ndarray | None
    value_before: float | None
    value_after: float | None
    valid: bool
    edits: int | None
    on_distribution: bool | None
    seconds: float
    generator_calls: int
    agent_calls: int
    edits_in_words: tuple[str, ...] = ()
    behaviour: dict[str, Any] | None = None

    def to_dict(
        self, action_names: tuple[str, ...], domain: Domain | None = None
    ) -> dict[str, Any]:
        """JSON-ready, with enough to restore both levels and check the flip by hand."""

        def to_json(state: Any) -> Any:
            return domain.state_to_json(state) if domain is not None else state.to_dict()

        def name(a: int | None) -> str | None:
            return None if a is None else action_names[a]

        return {
            "method": self.method,
            "target": self.target,
            "original_state": to_json(self.original_state),
            "counterfactual_state": None
            if self.counterfactual_state is None
            else to_json(self.counterfactual_state),
            "original_action": name(self.original_action),
            "counterfactual_action": name(self.counterfactual_action),
            "probs_before": dict(zip(action_names, map(float, self.probs_before), strict=True)),
            "probs_after": None
            if self.probs_after is None
            else dict(zip(action_names, map(float, self.probs_after), strict=True)),
            "value_before": self.value_before,
            "value_after": self.value_after,
            "valid": self.valid,
            "edits": self.edits,
            "on_distribution": self.on_distribution,
            "seconds": self.seconds,
            "generator_calls": self.generator_calls,
            "agent_calls": self.agent_calls,
            "edits_in_words": list(self.edits_in_words),
            "behaviour": self.behaviour,
        }
