"""Atari games exactly as stable-baselines3's standard pipeline shows them to an agent.

The standard pipeline is ``make_atari_env(id)`` (``Monitor`` then ``AtariWrapper``: no-op reset,
4-frame max-pool skip, life loss as episode end, FIRE on reset, 84x84 grey, reward clipping) and
``VecFrameStack(venv, 4)`` (channels last, newest frame last, zeros before the first frame). An
agent trained that way must be fed its *real* 4-frame stack, never one frame copied four times.
:func:`make_atari_env` rebuilds the same stack for a single gymnasium env, so datasets,
counterfactuals and quizzes see exactly what the agent saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.wrappers import FrameStackObservation

FRAME_STACK = 4
"""Frames per observation, as in stable-baselines3's and the field's standard Atari setup."""

SHIPPED_GENERATORS = {"ALE/SpaceInvaders-v5": "zoo:spaceinvaders-generator"}
"""Shipped generators (and autoencoders) of Atari games, by env id."""


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


class AtariState:
    """One observation of the standard pipeline: uint8 [84, 84, 4], the agent's exact input.

    Compared and hashed by value, so datasets of them can be deduplicated.
    """

    __slots__ = ("_key", "obs")

    def __init__(self, obs: np.ndarray) -> None:
        obs = np.asarray(obs)
        if obs.dtype != np.uint8 or obs.ndim != 3:
            raise ValueError(
                f"an Atari state is a uint8 [H, W, k] stack, got {obs.dtype} {obs.shape}"
            )
        self.obs = np.ascontiguousarray(obs)
        self.obs.setflags(write=False)
        self._key = self.obs.tobytes()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AtariState) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)


class AtariDomain:
    """Frame stacks as tensors and back: decoding quantises to uint8 in [0, 255].

    There is no exact on-distribution check for pixels; realism is measured separately (a
    classifier telling real from counterfactual stacks), so ``is_on_distribution`` returns None.

    Args:
        env_id: the game (names its shipped generator); None where only tensors matter.
    """

    family: ClassVar[str] = "atari"
    methods: ClassVar[tuple[str, ...]] = ("diffusion", "latent", "nearest", "pixel")
    sample_steps: ClassVar[int] = 100  # early frames all look alike
    dataset_arrays: ClassVar[tuple[str, ...]] = ("obs",)

    def __init__(self, env_id: str | None = None) -> None:
        self.env_id = env_id

    @property
    def obs_scale(self) -> float:
        """Pixels are uint8: 0-255."""
        return 255.0

    @property
    def default_generator(self) -> str | None:
        return None if self.env_id is None else SHIPPED_GENERATORS.get(self.env_id)

    def encode(self, state: AtariState) -> torch.Tensor:
        return torch.from_numpy(state.obs.astype(np.float32))

    def decode(self, x: torch.Tensor | np.ndarray) -> AtariState:
        """The legal stack nearest to ``x``: rounded and clipped to uint8."""
        values = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        return AtariState(np.clip(np.rint(values), 0, 255).astype(np.uint8))

    def decode_like(self, x: torch.Tensor, like: AtariState) -> AtariState:
        return self.decode(x)  # nothing of the original is kept apart: the stack is the state

    def is_on_distribution(self, state: AtariState) -> bool | None:
        return None

    def distance(self, a: AtariState, b: AtariState) -> float:
        """Changed values (L0), the quantity sparsity is defined from."""
        return float(np.count_nonzero(a.obs != b.obs))

    def state_to_json(self, state: AtariState) -> None:
        return None

    def state_arrays(self, state: AtariState) -> np.ndarray:
        """The exact uint8 stack, saved beside the report item so anyone can check the flip."""
        return state.obs

    def pair_metrics(self, a: AtariState, b: AtariState) -> dict[str, float]:
        """GANterfactual-RL's proximity and sparsity of the pair."""
        return {"proximity": proximity(a, b), "sparsity": sparsity(a, b)}

    def picture(self, state: AtariState) -> np.ndarray:
        """Atari figures draw the uint8 [84, 84, 4] stack."""
        return state.obs

    def state_from_env(self, env: gym.Env, obs: np.ndarray) -> AtariState:
        """The observation is the whole state: the stack the agent was fed."""
        return AtariState(obs)

    def states_from_arrays(self, arrays: Mapping[str, np.ndarray]) -> list[AtariState]:
        return [AtariState(o) for o in arrays["obs"]]


def proximity(a: AtariState, b: AtariState) -> float:
    """1 - L1(x, x') / (N * 255) over the uint8 stack (GANterfactual-RL's definition)."""
    diff = np.abs(a.obs.astype(np.int64) - b.obs.astype(np.int64)).sum()
    return float(1.0 - diff / (a.obs.size * 255))


def sparsity(a: AtariState, b: AtariState) -> float:
    """1 - L0(x, x') / N after quantisation to uint8."""
    return float(1.0 - np.count_nonzero(a.obs != b.obs) / a.obs.size)
