"""Measure an agent on fresh seeded episodes, all episodes stepped together in one batch."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rl_workbench.domains import make_env

from .base import Agent


@dataclass(frozen=True)
class EvaluationResult:
    """How an agent did over ``episodes`` seeded episodes.

    Attributes:
        episodes: number of episodes.
        greedy: whether actions were argmax (True) or sampled from the policy (False).
        success_rate: fraction of episodes that ended with positive terminal reward
            (for mazes: the cheese was reached before the timeout).
        mean_return: mean undiscounted return; for Atari, the game score (unclipped, all lives),
            read from the Monitor beneath the Atari wrappers.
        mean_steps: mean episode length.
        path_efficiency: mean over successful maze episodes of optimal steps / steps taken
            (NaN where the env reports no ``optimal_steps``).
        seed: seed of the first episode; episode i uses ``seed + i``.
    """

    episodes: int
    greedy: bool
    success_rate: float
    mean_return: float
    mean_steps: float
    path_efficiency: float
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    agent: Agent,
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    episodes: int = 200,
    seed: int = 10_000,
    greedy: bool = False,
    progress: bool = False,
) -> EvaluationResult:
    """Run ``episodes`` episodes (seeds ``seed``..``seed+episodes-1``) and summarise them.

    Sampling uses ``numpy.random.default_rng(seed)``, so results are reproducible.
    """
    rng = np.random.default_rng(seed)
    envs = [make_env(env_id, env_kwargs) for _ in range(episodes)]
    obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    returns = np.zeros(episodes)
    steps = np.zeros(episodes, dtype=int)
    success = np.zeros(episodes, dtype=bool)
    efficiency = np.full(episodes, np.nan)
    alive = np.ones(episodes, dtype=bool)
    bar = tqdm(total=episodes, desc="evaluating", unit="ep", disable=not progress, leave=False)
    while alive.any():
        idx = np.flatnonzero(alive)
        actions = agent.act(obs[idx], rng=None if greedy else rng)
        for i, action in zip(idx, actions, strict=True):
            o, r, terminated, truncated, info = envs[i].step(int(action))
            obs[i] = o
            returns[i] += r
            steps[i] += 1
            if terminated or truncated:
                if "lives" in info and "episode" not in info:
                    # Atari: a lost life ends the agent's episode but not the game; play on.
                    obs[i] = envs[i].reset()[0]
                    continue
                if "episode" in info:  # Monitor's record of the whole game, unclipped
                    returns[i] = info["episode"]["r"]
                alive[i] = False
                bar.update(1)
                success[i] = bool(terminated and float(r) > 0)
                if success[i] and "optimal_steps" in info:
                    efficiency[i] = info["optimal_steps"] / steps[i]
    bar.close()
    for env in envs:
        env.close()
    return EvaluationResult(
        episodes=episodes,
        greedy=greedy,
        success_rate=float(success.mean()),
        mean_return=float(returns.mean()),
        mean_steps=float(steps.mean()),
        # NaN where no success had a known shortest path (MiniGrid has no solver here)
        path_efficiency=float(np.nanmean(efficiency))
        if np.isfinite(efficiency).any()
        else float("nan"),
        seed=seed,
    )
