"""``nearest``: the closest real level in a dataset on which the agent meets the target
(Olson et al.'s baseline). Closeness is the number of atomic edits; only levels of the same maze
size count, since a different size changes everything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from rl_workbench.envs.maze import MazeState

from .base import Budget, Method, Query
from .result import count_edits


@dataclass
class NearestMethod(Method):
    """Nearest dataset level meeting the target.

    Attributes:
        pool: the real levels to choose from (e.g. a collected dataset's states).
    """

    name: ClassVar[str] = "nearest"
    pool: list[MazeState] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.pool = list(dict.fromkeys(self.pool))

    def _propose(self, query: Query, budget: Budget) -> MazeState | None:
        same = [s for s in self.pool if s.maze_size == query.state.maze_size and s != query.state]
        if not same:
            return None
        score, ok = query.score_levels(same, budget)
        if not bool(ok.any()):
            return None
        distance = np.array([count_edits(query.state, s) for s in same], dtype=float)
        distance[~ok.numpy()] = np.inf
        closest = np.flatnonzero(distance == distance.min())
        # Among equally close levels, the one that meets the target most clearly.
        return same[int(closest[int(np.argmax(score.numpy()[closest]))])]
