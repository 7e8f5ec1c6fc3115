"""The one interface every counterfactual method shares, and the bookkeeping they all need.

``Method.explain`` does the honest part once for everyone: it evaluates the original, refuses a
target the agent already meets, times the search, and judges whatever level the method proposes
by re-encoding it and running the agent on it. Methods implement one hook, ``_propose``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from rl_workbench.agents import Agent
from rl_workbench.domains.base import Domain
from rl_workbench.errors import InvalidArgumentError

from .result import Result
from .targets import Target


class TargetAlreadyMet(InvalidArgumentError):
    """The agent already meets the target on the state: there is nothing to explain.

    A typed outcome, so a run over many states skips these by type (never by reading the
    message), while a single-state caller still gets the sentence of an InvalidArgumentError.
    """

    title = "Target already met"


@dataclass
class Budget:
    """What a proposal cost; methods add to it as they go."""

    generator_calls: int = 0
    agent_calls: int = 0


@dataclass(frozen=True)
class Query:
    """Everything a method needs to know about one (state, target) pair.

    Attributes:
        state: the level to explain.
        agent: the agent.
        domain: how levels become tensors and back.
        target: what the counterfactual must achieve.
        original_action: the agent's argmax on ``state``.
        original_value: the critic's value on ``state`` (None without a critic).
        rng: the method's source of randomness for this query.
    """

    state: Any
    agent: Agent
    domain: Domain
    target: Target
    original_action: int
    original_value: float | None
    rng: torch.Generator = field(repr=False)

    def score_levels(self, states: list[Any], budget: Budget) -> tuple[torch.Tensor, torch.Tensor]:
        """(target score [B], satisfied [B]) of candidate levels."""
        obs = torch.stack([self.domain.encode(s) for s in states])
        budget.agent_calls += len(states)
        with torch.no_grad():
            logits = self.agent.action_logits(obs)
            values = self.agent.value(obs) if self.target.needs_value else None
            probs = self.agent.probs_from_logits(logits)  # same forward pass as the logits
        score = self.target.score(logits, values, self.original_action)
        ok = self.target.satisfied(probs, values, self.original_action, self.original_value)
        return score, ok


class Method(ABC):
    """Finds counterfactual levels; subclasses set ``name`` and implement ``_propose``."""

    name: ClassVar[str]

    def explain(
        self, state: Any, agent: Agent, domain: Domain, target: Target, *, seed: int = 0
    ) -> Result:
        """Find and judge a counterfactual of ``state`` for ``target``.

        Raises:
            TargetAlreadyMet: the agent already meets the target on ``state`` (a target equal
                to the original action is never counted as a success).
            InvalidArgumentError: the target needs a critic the agent lacks.
        """
        probs_b, value_t = _evaluate_one(agent, domain, state)
        probs_before = probs_b[0]
        value_before = None if value_t is None else float(value_t[0])
        original_action = int(probs_before.argmax())
        if target.needs_value and value_before is None:
            raise InvalidArgumentError(f"Target {target.kind!r} needs an agent with a critic.")
        already = target.satisfied(
            probs_before[None], None if value_t is None else value_t, original_action, value_before
        )
        if target.kind in ("action", "uncertain") and bool(already[0]):
            what = "takes that action" if target.kind == "action" else "is uncertain"
            raise TargetAlreadyMet(
                f"The agent already {what} on this state; a counterfactual must change something."
            )
        query = Query(
            state=state,
            agent=agent,
            domain=domain,
            target=target,
            original_action=original_action,
            original_value=value_before,
            rng=torch.Generator().manual_seed(seed),
        )
        budget = Budget(agent_calls=1)
        started = time.perf_counter()
        proposal = self._propose(query, budget)
        seconds = time.perf_counter() - started
        return self._judge(query, proposal, probs_before, value_before, budget, seconds)

    @abstractmethod
    def _propose(self, query: Query, budget: Budget) -> Any | None:
        """Return a legal state (decoded by the domain) meant to meet the target, or None."""

    def _describe(self, proposal: Any) -> tuple[str, ...]:
        """The proposal's edits in words, for methods whose edits have names (else none)."""
        return ()

    def _judge(
        self,
        query: Query,
        proposal: Any | None,
        probs_before: torch.Tensor,
        value_before: float | None,
        budget: Budget,
        seconds: float,
    ) -> Result:
        probs_after = value_after = action_after = None
        valid = False
        edits = on_dist = None
        words: tuple[str, ...] = ()
        if proposal is not None:
            # Re-encoded from the legal state, exactly as the env would show it to the agent.
            p, v = _evaluate_one(query.agent, query.domain, proposal)
            probs_after = p[0].numpy()
            value_after = None if v is None else float(v[0])
            action_after = int(p[0].argmax())
            valid = bool(query.target.satisfied(p, v, query.original_action, value_before)[0])
            distance = query.domain.distance(query.state, proposal)
            edits = int(distance) if np.isfinite(distance) else None
            words = self._describe(proposal)
            if words:  # the method's own atomic edits (named objects), not the domain's count
                edits = len(words)
            on_dist = query.domain.is_on_distribution(proposal)
        return Result(
            method=self.name,
            target=query.target.label(query.agent.action_names),
            original_state=query.state,
            counterfactual_state=proposal,
            original_action=query.original_action,
            counterfactual_action=action_after,
            probs_before=probs_before.numpy(),
            probs_after=probs_after,
            value_before=value_before,
            value_after=value_after,
            valid=valid,
            edits=edits,
            on_distribution=on_dist,
            seconds=seconds,
            generator_calls=budget.generator_calls,
            agent_calls=budget.agent_calls,
            edits_in_words=words,
        )


@torch.no_grad()
def _evaluate_one(
    agent: Agent, domain: Domain, state: Any
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(probs [1, A], value [1] or None) of the agent on one re-encoded state."""
    obs = domain.encode(state)[None]
    return agent.action_probs(obs), (agent.value(obs) if agent.has_value else None)


def best(levels: list[Any], score: torch.Tensor, ok: torch.Tensor) -> Any | None:
    """The highest-scoring satisfied level, or None."""
    if not bool(ok.any()):
        return None
    masked = torch.where(ok, score, torch.full_like(score, -np.inf))
    return levels[int(masked.argmax())]
