"""Atari games exactly as stable-baselines3's standard pipeline shows them to an agent.

The standard pipeline is ``make_atari_env(id)`` (``Monitor`` then ``AtariWrapper``: no-op reset,
4-frame max-pool skip, life loss as episode end, FIRE on reset, 84x84 grey, reward clipping) and
``VecFrameStack(venv, 4)`` (channels last, newest frame last, zeros before the first frame). An
agent trained that way must be fed its *real* 4-frame stack, never one frame copied four times.
:func:`make_atari_env` rebuilds the same stack for a single gymnasium env, so datasets,
counterfactuals and quizzes see exactly what the agent saw.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import FrameStackObservation

FRAME_STACK = 4
"""Frames per observation, as in stable-baselines3's and the field's standard Atari setup."""


class ChannelsLastStackObservation(gym.ObservationWrapper):
    """Turn gymnasium's stacked frames [k, 84, 84, 1] into VecFrameStack's [84, 84, k].

    Frame order is kept: oldest first, newest last, zeros before the episode's first frame.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        k, h, w, c = env.observation_space.shape  # type: ignore[misc]
        if c != 1:
            raise ValueError(f"expected single-channel frames, got {env.observation_space.shape}")
        self.observation_space = spaces.Box(0, 255, (h, w, k), dtype=np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(observation[..., 0], 0, -1))


def make_atari_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """One ALE env behind the standard pipeline: [84, 84, 4] uint8 observations."""
    import ale_py
    from stable_baselines3.common.atari_wrappers import AtariWrapper
    from stable_baselines3.common.monitor import Monitor

    gym.register_envs(ale_py)
    env = AtariWrapper(Monitor(gym.make(env_id, **(env_kwargs or {}))))
    return ChannelsLastStackObservation(
        FrameStackObservation(env, FRAME_STACK, padding_type="zero")
    )


def atari_action_names(env: gym.Env) -> tuple[str, ...]:
    """The ALE's names for the game's actions (e.g. NOOP, FIRE, RIGHT, LEFT, ...)."""
    return tuple(env.unwrapped.get_action_meanings())  # type: ignore[attr-defined]
