"""The agent's distribution on maze levels, seen as the agent sees them.

Every protocol asks the agent about many edited levels; this is the one place they become
observations, through the agent's domain (symbolic channels or the RGB view), so a protocol never
assumes an observation mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rl_workbench.agents import Agent
from rl_workbench.domains.base import Domain
from rl_workbench.envs.maze import MazeState
from rl_workbench.envs.maze.render import symbolic_observation

BATCH = 256
"""Observations per forward pass: thousands at once (P7 reads every parting square of 100
mazes) only thrash the cache, and memory stays bounded."""


def level_probs(agent: Agent, levels: Sequence[MazeState], domain: Domain | None) -> np.ndarray:
    """π [N, A] on each level, in batches of ``BATCH``.

    Args:
        agent: the agent.
        levels: the levels (mouse where π is read).
        domain: the agent's domain, which encodes levels in its observation mode; None means the
            symbolic channels (agents written by hand for tests see those).
    """
    out = []
    for start in range(0, len(levels), BATCH):
        batch = levels[start : start + BATCH]
        if domain is None:
            obs = torch.from_numpy(np.stack([symbolic_observation(s) for s in batch]))
        else:
            obs = torch.stack([domain.encode(s) for s in batch])
        with torch.no_grad():
            out.append(agent.action_probs(obs).numpy())
    return np.concatenate(out) if out else np.zeros((0, agent.n_actions))
