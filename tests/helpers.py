"""Small builders shared by tests: tiny mazes, tiny models, fixed rollouts."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

TINY_MAZE = {"min_size": 3, "max_size": 5}
"""Small mazes keep env-level tests fast."""


def make_tiny_model(
    algorithm: str, env_id: str = "rlwb/Maze-v0", env_kwargs: dict | None = None, seed: int = 0
):
    """An untrained stable-baselines3 model with a 16-unit MLP, for adapter tests."""
    from stable_baselines3 import A2C, DQN, PPO

    from rl_workbench.domains import make_env

    env = make_env(env_id, env_kwargs or TINY_MAZE)
    cls = {"PPO": PPO, "A2C": A2C, "DQN": DQN}[algorithm]
    kwargs = {"learning_starts": 0, "buffer_size": 1000} if algorithm == "DQN" else {}
    return cls(
        "MlpPolicy", env, policy_kwargs={"net_arch": [16]}, seed=seed, device="cpu", **kwargs
    )


def rollout(env: gym.Env, seed: int, steps: int = 50) -> list[np.ndarray]:
    """Observations of a fixed action sequence from a seeded reset."""
    obs, _ = env.reset(seed=seed)
    out = [obs]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        out.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return out
