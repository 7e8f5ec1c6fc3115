"""What a counterfactual should achieve: a different action, a named action, a value objective,
or a behaviour (``reach:cheese``: the agent reaches the cheese first).

An action-level target turns the agent's outputs on a candidate into two things: a
differentiable *score* to push up (used by gradient methods and to rank candidates) and a yes/no
*satisfied* judged on the decoded level (the honesty rule: only the decoded, re-encoded level
counts). A behaviour target is judged by rolling the agent out on the decoded level (see
:mod:`rl_workbench.counterfactual.base`); gradient methods are steered by a stand-in action target,
the first move toward the landmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from rl_workbench.errors import InvalidArgumentError, did_you_mean

TargetKind = Literal["any", "action", "value-high", "value-low", "uncertain", "reach"]
VALUE_KINDS = ("value-high", "value-low", "uncertain")
REACH_PREFIX = "reach:"


@dataclass(frozen=True)
class Target:
    """A counterfactual target.

    Attributes:
        kind: "any" (any action but the original), "action" (a named one), "value-high",
            "value-low" (move the critic's value by at least ``value_margin``), or "uncertain"
            (the agent's top probability at most ``uncertain_top``).
        action: the action index for kind "action".
        value_margin: how far the value must move for the value targets.
        uncertain_top: the top-probability ceiling for "uncertain".
        goal: the landmark of a "reach" target ("cheese", "corner", "sign").
        rollouts: sampled rollouts per level whose share reaching ``goal`` is reported beside
            the greedy rollout that decides validity.
        rivals: landmarks that, reached before ``goal``, end a rollout short of it (None: the
            domain's rule; the audit names its proxy, so "reach the goal" means "before the
            corner").
    """

    kind: TargetKind
    action: int | None = None
    value_margin: float = 1.0
    uncertain_top: float = 0.5
    goal: str | None = None
    rollouts: int = 20
    rivals: tuple[str, ...] | None = None

    @property
    def needs_value(self) -> bool:
        return self.kind in ("value-high", "value-low")

    @property
    def is_behaviour(self) -> bool:
        """Judged by rolling the agent out, not by its outputs on one state."""
        return self.kind == "reach"

    def label(self, action_names: tuple[str, ...]) -> str:
        if self.kind == "reach":
            return f"{REACH_PREFIX}{self.goal}"
        return action_names[self.action] if self.kind == "action" else self.kind  # type: ignore[index]

    def score(
        self, logits: torch.Tensor, values: torch.Tensor | None, original_action: int
    ) -> torch.Tensor:
        """[B] higher-is-better objective on a batch of agent outputs (differentiable)."""
        if self.is_behaviour:
            raise InvalidArgumentError(
                "A reach target is judged by rollouts; score with its stand-in action target."
            )
        logp = torch.log_softmax(logits, dim=-1)
        if self.kind == "action":
            return logp[:, self.action]
        if self.kind == "any":
            others = torch.cat([logp[:, :original_action], logp[:, original_action + 1 :]], dim=1)
            return others.max(dim=1).values - logp[:, original_action]
        if self.kind == "uncertain":
            return -(logp.exp() * logp).sum(dim=1)  # entropy
        if values is None:
            raise InvalidArgumentError(f"Target {self.kind!r} needs an agent with a critic.")
        return values if self.kind == "value-high" else -values

    def satisfied(
        self,
        probs: torch.Tensor,
        values: torch.Tensor | None,
        original_action: int,
        original_value: float | None,
    ) -> torch.Tensor:
        """[B] bool: does each candidate meet the target (argmax for action targets)?"""
        if self.is_behaviour:
            raise InvalidArgumentError("A reach target is judged by rolling the agent out.")
        top = probs.argmax(dim=1)
        if self.kind == "action":
            return top.eq(int(self.action))  # type: ignore[arg-type]
        if self.kind == "any":
            return top.ne(original_action)
        if self.kind == "uncertain":
            return probs.max(dim=1).values <= self.uncertain_top
        if values is None or original_value is None:
            raise InvalidArgumentError(f"Target {self.kind!r} needs an agent with a critic.")
        if self.kind == "value-high":
            return values >= original_value + self.value_margin
        return values <= original_value - self.value_margin


def parse_target(
    text: str, action_names: tuple[str, ...], landmarks: tuple[str, ...] = ()
) -> Target:
    """``any``, an action name (``up``), ``value-high``, ``value-low``, ``uncertain``, or
    ``reach:LANDMARK`` where the domain has landmarks (mazes: cheese, corner, sign)."""
    if text.startswith(REACH_PREFIX):
        goal = text[len(REACH_PREFIX) :]
        if not landmarks:
            raise InvalidArgumentError(
                f"Target {text!r} is a behaviour target; only maze agents have landmarks to "
                "reach. Use any, an action name, value-high, value-low or uncertain."
            )
        if goal not in landmarks:
            raise InvalidArgumentError(
                f"Unknown landmark {goal!r} in {text!r}; use "
                + ", ".join(f"{REACH_PREFIX}{name}" for name in landmarks)
                + "."
            )
        return Target("reach", goal=goal)
    if text == "any":
        return Target("any")
    if text in VALUE_KINDS:
        return Target(text)  # type: ignore[arg-type]
    if text in action_names:
        return Target("action", action=action_names.index(text))
    choices = ["any", *VALUE_KINDS, *action_names, *(REACH_PREFIX + name for name in landmarks)]
    raise InvalidArgumentError(f"Unknown target {text!r}." + did_you_mean(text, choices))
