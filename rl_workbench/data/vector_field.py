"""Vector fields: the policy evaluated with the mouse on every free square of one maze.

The picture procgen-tools made famous: where would the agent go from each square, all else fixed?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rl_workbench.agents import Agent
from rl_workbench.envs.maze import MazeEnv, MazeState


@dataclass(frozen=True)
class VectorField:
    """The agent's action distribution with the mouse on each free cell.

    Attributes:
        state: the level (its own mouse position is one of the cells).
        cells: the free cells evaluated (every free cell but the cheese's).
        probs: action distributions [len(cells), A], rows aligned with ``cells``.
    """

    state: MazeState
    cells: list[tuple[int, int]]
    probs: np.ndarray

    def at(self, cell: tuple[int, int]) -> np.ndarray:
        """The distribution with the mouse on ``cell``."""
        return self.probs[self.cells.index(cell)]


def vector_field(agent: Agent, env: MazeEnv, state: MazeState) -> VectorField:
    """Evaluate the agent on ``state`` with the mouse moved to every free cell, in one batch."""
    cells = [c for c in state.free_cells() if c != state.cheese]
    obs = np.stack([env.observation(state.replace(mouse=c)) for c in cells])
    probs, _ = agent.evaluate_batch(obs)
    return VectorField(state=state, cells=cells, probs=probs)
