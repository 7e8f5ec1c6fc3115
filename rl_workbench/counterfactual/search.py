"""``search``: the fewest atomic edits that meet the target, by exhaustive then beam search.

Depth 1 is exhaustive over every legal single edit (mazes: move the cheese, toggle a wall, move
the sign; MiniGrid: move the goal or an object, a wall, a door's state, the agent); deeper levels
expand the ``beam_width`` best candidates by target score. Every candidate must stay playable, as
its domain says (mazes: the cheese reachable from the mouse). Agent evaluations are batched per
depth. This is the ground truth the other methods' edit counts are divided by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, cast

import torch

from rl_workbench.domains.base import LevelDomain
from rl_workbench.envs.maze import MazeState
from rl_workbench.errors import InvalidEditError

from .base import Budget, Method, Query, best


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
            for parent in frontier:
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
            if not children:
                return None
            score, ok = query.score_levels(children, budget)
            if self.on_distribution_only:
                allowed = [query.domain.is_on_distribution(c) for c in children]
                ok = ok & torch.tensor(allowed)
            found = best(children, score, ok)
            if found is not None:
                return found
            order = score.argsort(descending=True)[: self.beam_width]
            frontier = [children[int(i)] for i in order]
        return None
