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

from .observe import level_probs
from .outcomes import Rate, wilson

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
    # Only squares where the two ways part count, so only they are read (about half the free
    # squares; reading whole fields twice was the sign audit's largest cost at 15x15).
    mice: list[MazeState] = []
    unsigned_mice: list[MazeState] = []
    moves: list[tuple[int, int]] = []
    for level in levels:
        if level.sign is None or level.sign == level.cheese:
            continue
        to_cheese = bfs_distances(level.walls, level.cheese)
        to_sign = bfs_distances(level.walls, level.sign)
        without_sign = level.move_sign(None)
        for cell in level.free_cells():
            if cell in (level.sign, level.cheese) or not level.in_maze(cell):
                continue
            a_cheese, a_sign = _downhill(level, to_cheese, cell), _downhill(level, to_sign, cell)
            if a_cheese is None or a_sign is None or a_cheese == a_sign:
                continue
            mice.append(level.replace(mouse=cell))
            unsigned_mice.append(without_sign.replace(mouse=cell))
            moves.append((a_cheese, a_sign))
    squares = len(moves)
    if not squares:
        return ColourVersusPosition(wilson(0, 0), wilson(0, 0), wilson(0, 0))
    top = level_probs(agent, mice, domain).argmax(axis=1)
    top_unsigned = level_probs(agent, unsigned_mice, domain).argmax(axis=1)
    a_cheese_all = np.array([m[0] for m in moves])
    a_sign_all = np.array([m[1] for m in moves])
    return ColourVersusPosition(
        wilson(int((top == a_sign_all).sum()), squares),
        wilson(int((top == a_cheese_all).sum()), squares),
        wilson(int((top_unsigned == a_cheese_all).sum()), squares),
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
