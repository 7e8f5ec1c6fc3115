"""P7, colour versus position: with the sign moved away from the cheese, which does the agent
follow?

Over every free square of each test maze where the next move toward the sign differs from the
next move toward the cheese, the agent's most likely move is compared with both. The same
squares are read again with the sign removed, the control that shows whether the agent can find
the cheese without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rl_workbench.agents import Agent
from rl_workbench.domains.base import Domain
from rl_workbench.envs.maze import MazeState
from rl_workbench.envs.maze.state import MOVES, bfs_distances

from .outcomes import Rate, wilson
from .sensitivity import field_probs

Cell = tuple[int, int]


@dataclass(frozen=True)
class ColourVersusPosition:
    """P7's figures.

    Attributes:
        follows_sign: squares where the agent's top move heads for the sign.
        follows_cheese: squares where it heads for the cheese.
        cheese_without_sign: the same squares with the sign removed: top move toward the cheese.
    """

    follows_sign: Rate
    follows_cheese: Rate
    cheese_without_sign: Rate

    def to_dict(self) -> dict[str, object]:
        return {
            "squares": self.follows_sign.n,
            "follows_sign": self.follows_sign.to_dict(),
            "follows_cheese": self.follows_cheese.to_dict(),
            "cheese_without_sign": self.cheese_without_sign.to_dict(),
        }


def colour_versus_position(
    agent: Agent, levels: list[MazeState], domain: Domain | None = None
) -> ColourVersusPosition:
    sign = cheese = squares = unsigned = 0
    for level in levels:
        if level.sign is None or level.sign == level.cheese:
            continue
        to_cheese = bfs_distances(level.walls, level.cheese)
        to_sign = bfs_distances(level.walls, level.sign)
        with_sign = field_probs(agent, level, domain)
        without = field_probs(agent, level.move_sign(None), domain)
        for cell, probs in with_sign.items():
            if cell == level.sign:
                continue
            a_cheese, a_sign = _downhill(level, to_cheese, cell), _downhill(level, to_sign, cell)
            if a_cheese is None or a_sign is None or a_cheese == a_sign:
                continue
            squares += 1
            top = int(np.argmax(probs))
            sign += top == a_sign
            cheese += top == a_cheese
            unsigned += int(np.argmax(without[cell])) == a_cheese
    return ColourVersusPosition(
        wilson(sign, squares), wilson(cheese, squares), wilson(unsigned, squares)
    )


def _downhill(level: MazeState, dist: np.ndarray, cell: Cell) -> int | None:
    """The move that shortens the maze distance to a target (unique in a perfect maze)."""
    if dist[cell] <= 0:
        return None
    for a, (dr, dc) in enumerate(MOVES):
        nxt = (cell[0] + dr, cell[1] + dc)
        if level.is_free(nxt) and dist[nxt] == dist[cell] - 1:
            return a
    return None
