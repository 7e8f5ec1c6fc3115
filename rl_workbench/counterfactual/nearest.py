"""``nearest``: the closest real state in a dataset on which the agent meets the target
(Olson et al.'s baseline). Closeness is the domain's distance: atomic edits for mazes (only levels
of the same maze size count), changed values for Atari frame stacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .base import Budget, Method, Query


@dataclass
class NearestMethod(Method):
    """Nearest dataset level meeting the target.

    Attributes:
        pool: the real levels to choose from (e.g. a collected dataset's states).
    """

    name: ClassVar[str] = "nearest"
    pool: list[Any] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.pool = list(dict.fromkeys(self.pool))

    def _propose(self, query: Query, budget: Budget) -> Any | None:
        distance_to = query.domain.distance
        same = [
            s for s in self.pool if s != query.state and np.isfinite(distance_to(query.state, s))
        ]
        if not same:
            return None
        score, ok = query.score_levels(same, budget)
        if not bool(ok.any()):
            return None
        distance = np.array([distance_to(query.state, s) for s in same], dtype=float)
        distance[~ok.numpy()] = np.inf
        closest = np.flatnonzero(distance == distance.min())
        # Among equally close levels, the one that meets the target most clearly.
        return same[int(closest[int(np.argmax(score.numpy()[closest]))])]
