"""The one interface every counterfactual method shares, and the bookkeeping they all need.

``Method.explain`` does the honest part once for everyone: it evaluates the original, refuses a
target the agent already meets, times the search, and judges whatever level the method proposes
by re-encoding it and running the agent on it. Methods implement one hook, ``_propose``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch

from rl_workbench.agents import Agent
from rl_workbench.domains.base import BehaviourDomain, Domain, Rollouts
from rl_workbench.errors import InvalidArgumentError

from .result import Result
from .targets import Target


class NothingToExplain(InvalidArgumentError):
    """A state this target cannot be explained on.

    A typed outcome, so a run over many states skips these by type (never by reading the
    message), while a single-state caller still gets the sentence of an InvalidArgumentError.
    """

    title = "Nothing to explain"


class TargetAlreadyMet(NothingToExplain):
    """The agent already meets the target on the state."""

    title = "Target already met"


class LandmarkMissing(NothingToExplain):
    """A behaviour target names a landmark the level lacks (``reach:sign`` without a sign)."""

    title = "No such landmark"


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
        guide: the action-level target gradient methods push toward: the target itself, or for
            a behaviour target the first move toward its landmark (candidates are still judged
            by rollouts).
    """

    state: Any
    agent: Agent
    domain: Domain
    target: Target
    original_action: int
    original_value: float | None
    rng: torch.Generator = field(repr=False)
    guide: Target | None = None

    @property
    def steer(self) -> Target:
        """What gradient methods score: ``guide`` when set, else the target."""
        return self.guide or self.target

    def score_levels(
        self, states: list[Any], budget: Budget, *, until_valid: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(target score [B], satisfied [B]) of candidate levels; a behaviour target is scored
        by a greedy rollout of each (1 when it reaches the landmark first, else minus how near
        it came, so a beam keeps the candidates that take the agent closest). ``until_valid``:
        the rollouts stop once one candidate is valid (the others' scores are then partial)."""
        if self.target.is_behaviour:
            rollouts = greedy_rollouts(
                self.agent, self.domain, states, self.target, until_reached=until_valid
            )
            budget.agent_calls += rollouts.agent_calls
            ok = torch.from_numpy(rollouts.reached(str(self.target.goal)))
            near = torch.from_numpy(rollouts.closest.astype(np.float64))
            near = torch.where(near < 0, torch.full_like(near, 1e6), near)
            return torch.where(ok, torch.ones_like(near), -near), ok
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
        guide = None
        budget = Budget(agent_calls=1)
        if target.is_behaviour:
            guide = _behaviour_guide(agent, domain, state, target, original_action, budget)
        else:
            already = target.satisfied(
                probs_before[None],
                None if value_t is None else value_t,
                original_action,
                value_before,
            )
            if target.kind in ("action", "uncertain") and bool(already[0]):
                what = "takes that action" if target.kind == "action" else "is uncertain"
                raise TargetAlreadyMet(
                    f"The agent already {what} on this state; a counterfactual must change "
                    "something."
                )
        query = Query(
            state=state,
            agent=agent,
            domain=domain,
            target=target,
            original_action=original_action,
            original_value=value_before,
            rng=torch.Generator().manual_seed(seed),
            guide=guide,
        )
        started = time.perf_counter()
        proposal = self._propose(query, budget)
        seconds = time.perf_counter() - started
        result = self._judge(query, proposal, probs_before, value_before, budget, seconds)
        if target.is_behaviour:
            result = _with_behaviour(result, query, seed)
        return result

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
            if query.target.is_behaviour:
                rollout = greedy_rollouts(query.agent, query.domain, [proposal], query.target)
                valid = bool(rollout.reached(str(query.target.goal))[0])
            else:
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


def behaviour_domain(domain: Domain, target: Target) -> BehaviourDomain:
    """The domain as one with landmarks; refused (one sentence) for domains without them."""
    if not isinstance(domain, BehaviourDomain):
        raise InvalidArgumentError(
            f"Target {target.label(())!r} is about behaviour, which only maze agents have "
            "landmarks for; use an action-level target."
        )
    return domain


@torch.no_grad()
def agent_probs(agent: Agent, obs: torch.Tensor) -> torch.Tensor:
    return agent.action_probs(obs)


def greedy_rollouts(
    agent: Agent, domain: Domain, states: list[Any], target: Target, *, until_reached: bool = False
) -> Rollouts:
    """One greedy rollout per state toward ``target``'s landmark."""
    behaviour = behaviour_domain(domain, target)
    return behaviour.roll_out(
        states,
        lambda obs: agent_probs(agent, obs),
        str(target.goal),
        until_reached=until_reached,
        rivals=target.rivals,
    )


def sampled_share(
    agent: Agent, domain: Domain, state: Any, target: Target, rng: np.random.Generator
) -> float:
    """Share of ``target.rollouts`` sampled rollouts of ``state`` that reach the landmark first."""
    behaviour = behaviour_domain(domain, target)
    rollouts = behaviour.roll_out(
        [state] * target.rollouts,
        lambda obs: agent_probs(agent, obs),
        str(target.goal),
        greedy=False,
        rng=rng,
        rivals=target.rivals,
    )
    return float(rollouts.reached(str(target.goal)).mean())


def _behaviour_guide(
    agent: Agent, domain: Domain, state: Any, target: Target, original_action: int, budget: Budget
) -> Target:
    """Refuse a behaviour target the level lacks or the agent already meets; return the
    stand-in action target gradient methods steer by."""
    behaviour = behaviour_domain(domain, target)
    goal = str(target.goal)
    if not behaviour.has_landmark(state, goal):
        raise LandmarkMissing(
            f"This level has no {goal} to reach; pick a level with one or another target."
        )
    before = greedy_rollouts(agent, domain, [state], target)
    budget.agent_calls += before.agent_calls
    if bool(before.reached(goal)[0]):
        raise TargetAlreadyMet(
            f"The agent already reaches the {goal} first on this level (greedy rollout); a "
            "counterfactual must change something."
        )
    toward = behaviour.first_move_toward(state, goal)
    if toward is None or toward == original_action:
        return Target("any")
    return Target("action", action=toward)


def _with_behaviour(result: Result, query: Query, seed: int) -> Result:
    """The result with what the greedy rollouts reached and the sampled rollouts' shares."""
    target = query.target
    rng = np.random.default_rng(seed)
    after = result.counterfactual_state
    first_before = greedy_rollouts(query.agent, query.domain, [query.state], target).first[0]
    behaviour: dict[str, Any] = {
        "goal": target.goal,
        "rollouts": target.rollouts,
        "greedy_first_before": sorted(first_before),
        "sampled_share_before": sampled_share(query.agent, query.domain, query.state, target, rng),
        "greedy_first_after": None,
        "sampled_share_after": None,
    }
    if after is not None:
        first_after = greedy_rollouts(query.agent, query.domain, [after], target).first[0]
        behaviour["greedy_first_after"] = sorted(first_after)
        behaviour["sampled_share_after"] = sampled_share(
            query.agent, query.domain, after, target, rng
        )
    return replace(result, behaviour=behaviour)


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
