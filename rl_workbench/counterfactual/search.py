"""``search``: the fewest atomic edits that meet the target, by exhaustive then beam search.

Depth 1 is exhaustive over every legal single edit (mazes: move the cheese, toggle a wall, move
the sign; MiniGrid: move the goal or an object, a wall, a door's state, the agent); deeper levels
expand the ``beam_width`` best candidates by target score. Every candidate must stay playable, as
its domain says (mazes: the cheese reachable from the mouse). Agent evaluations are batched per
depth. This is the ground truth the other methods' edit counts are divided by.

Behaviour targets (``reach:cheese``) cost a whole rollout per candidate, and few single edits
redirect an agent, so their candidates are rolled out in chunks, likeliest first by the domain's
one-call-per-candidate ``goal_prior``, and a depth stops at the first chunk holding a valid one.
The fewest-edit count is unchanged (a depth is exhausted before the next is tried; a depth
without a valid candidate is scored whole and its beam formed in the order the children were
made, so it is the unchunked search's beam); only which of the equally short redirects is
returned can differ. On the 15x15 audit's redirects it cut agent calls
from 35,169 to the figure in BENCHMARKS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, cast

import numpy as np
import torch

from rl_workbench.domains.base import GoalPrior, LevelDomain
from rl_workbench.envs.maze import MazeState
from rl_workbench.errors import InvalidEditError

from .base import Budget, Method, Query, agent_probs, best

ROLLOUT_CHUNK = 32
"""Behaviour candidates rolled out together before checking for a valid one: big enough that
the lockstep rollouts batch the network well, small against the ~100-200 single edits of a
15x15 maze."""


@dataclass
class SearchMethod(Method):
    """Exhaustive single edits, then beam search.

    Attributes:
        max_edits: deepest search.
        beam_width: candidates kept between depths.
        on_distribution_only: accept only levels the env's generator could have produced.
        frozen_kinds: edit kinds the search may not make (e.g. ``("move_cheese",)`` to ask what
            else must change before an agent goes for the cheese where it is).
    """

    name: ClassVar[str] = "search"
    max_edits: int = 3
    beam_width: int = 16
    on_distribution_only: bool = False
    frozen_kinds: tuple[str, ...] = ()

    def _propose(self, query: Query, budget: Budget) -> MazeState | None:
        domain = cast("LevelDomain[MazeState]", query.domain)  # search needs atomic edits
        frontier = [query.state]
        seen = {query.state}
        for _ in range(self.max_edits):
            children: list[MazeState] = []
            parent_of: list[int] = []  # children[i] is one edit away from frontier[parent_of[i]]
            for k, parent in enumerate(frontier):
                for edit in domain.edits(parent):
                    if edit.kind in self.frozen_kinds:
                        continue
                    try:
                        child = edit.apply(parent)
                    except InvalidEditError:
                        continue
                    if child in seen or not domain.is_playable(child):
                        continue
                    seen.add(child)
                    children.append(child)
                    parent_of.append(k)
            if not children:
                return None
            found, score = self._evaluate(query, frontier, children, parent_of, budget)
            if found is not None:
                return found
            order = score.argsort(descending=True)[: self.beam_width]
            frontier = [children[int(i)] for i in order]
        return None

    def _evaluate(
        self,
        query: Query,
        parents: list[MazeState],
        children: list[MazeState],
        parent_of: list[int],
        budget: Budget,
    ) -> tuple[MazeState | None, torch.Tensor]:
        """(the best valid child or None, every child's score in ``children``'s order, so the
        beam is the one an unchunked search forms): every child at once for action targets,
        likeliest-first chunks for behaviour targets (module doc)."""
        behaviour = query.target.is_behaviour
        chunks = [list(range(len(children)))]
        if behaviour and len(children) > ROLLOUT_CHUNK:  # one chunk: nothing to order
            chunks = self._likeliest_first(query, parents, children, parent_of, budget)
        # Any valid candidate ends the depth, so its chunk's rollouts stop with the first
        # (unless only on-distribution ones count, which the rollouts cannot see).
        until_valid = behaviour and not self.on_distribution_only
        scores = torch.empty(len(children), dtype=torch.float64)
        for chunk in chunks:
            levels = [children[i] for i in chunk]
            score, ok = query.score_levels(levels, budget, until_valid=until_valid)
            if self.on_distribution_only:
                allowed = [query.domain.is_on_distribution(c) for c in levels]
                ok = ok & torch.tensor(allowed)
            found = best(levels, score, ok)
            if found is not None:
                return found, torch.empty(0)
            if len(chunks) == 1:
                return None, score  # already in children's order, as the search always had it
            scores[chunk] = score.double()
        return None, scores

    @staticmethod
    def _likeliest_first(
        query: Query,
        parents: list[MazeState],
        children: list[MazeState],
        parent_of: list[int],
        budget: Budget,
    ) -> list[list[int]]:
        """Indices of ``children`` in chunks of ``ROLLOUT_CHUNK``, each child ranked by the
        domain's prior on its own parent's path (in the order made where the domain has none)."""
        domain = query.domain
        if not isinstance(domain, GoalPrior):
            every = list(range(len(children)))
            return [every[i : i + ROLLOUT_CHUNK] for i in range(0, len(every), ROLLOUT_CHUNK)]
        goal = str(query.target.goal)
        prior = np.zeros(len(children))
        by_parent: dict[int, list[int]] = {}
        for i, k in enumerate(parent_of):
            by_parent.setdefault(k, []).append(i)
        for k, members in by_parent.items():
            scores, calls = domain.goal_prior(
                parents[k],
                [children[i] for i in members],
                lambda obs: agent_probs(query.agent, obs),
                goal,
            )
            prior[members] = scores
            budget.agent_calls += calls
        ranked = [int(i) for i in np.argsort(-prior, kind="stable")]
        return [ranked[i : i + ROLLOUT_CHUNK] for i in range(0, len(ranked), ROLLOUT_CHUNK)]
