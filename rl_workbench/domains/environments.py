"""Build any environment the workbench supports from its id, exactly as its agents saw it.

Families and what an agent of each sees:

- ``rlwb/...``: our maze family, as registered (symbolic channels by default).
- ``MiniGrid-...``: minigrid's env behind ``FullyObsWrapper`` + ``ImgObsWrapper``, the usual
  recipe for training a stable-baselines3 agent on a fully observed gridworld.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

import rl_workbench.envs  # noqa: F401  (registers the maze family)
from rl_workbench.envs.maze import ACTION_NAMES as MAZE_ACTION_NAMES
from rl_workbench.errors import InvalidArgumentError, UnknownNameError, did_you_mean

FAMILIES = ("rlwb/", "MiniGrid-")
"""Prefixes of the environment ids the workbench knows how to wrap."""


def _register_minigrid() -> None:
    import minigrid  # noqa: F401  (registers MiniGrid-* ids on import)


def env_family(env_id: str) -> str:
    """ "maze" or "minigrid"; raises UnknownNameError for anything else."""
    if env_id.startswith("rlwb/"):
        return "maze"
    if env_id.startswith("MiniGrid-"):
        return "minigrid"
    if env_id.startswith("ALE/"):
        raise UnknownNameError(
            f"Atari environment {env_id!r} is not supported by this version of the workbench yet. "
            "Supported families: rlwb/* (mazes) and MiniGrid-* (gridworlds)."
        )
    raise UnknownNameError(
        f"Unknown environment id {env_id!r}." + did_you_mean(env_id, known_env_ids())
    )


def known_env_ids() -> list[str]:
    """Registered ids of every family the workbench supports."""
    _register_minigrid()
    return sorted(i for i in gym.registry if i.startswith(FAMILIES))


def make_env(
    env_id: str, env_kwargs: dict[str, Any] | None = None, *, render_mode: str | None = None
) -> gym.Env:
    """Make ``env_id`` with the observation wrappers its agents are trained behind.

    Raises:
        UnknownNameError: the id is not registered (with close matches and the valid ids).
        InvalidArgumentError: the keyword arguments are rejected by the environment.
    """
    family = env_family(env_id)
    if family == "minigrid":
        _register_minigrid()
    if env_id not in gym.registry:
        raise UnknownNameError(
            f"Unknown environment id {env_id!r}." + did_you_mean(env_id, known_env_ids())
        )
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    try:
        env = gym.make(env_id, **kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(
            f"{env_id} does not accept the keyword arguments {sorted(kwargs)}: {exc}"
        ) from None
    if family == "minigrid":
        from minigrid.wrappers import FullyObsWrapper, ImgObsWrapper

        env = ImgObsWrapper(FullyObsWrapper(env))
    return env


def action_names(env: gym.Env) -> tuple[str, ...]:
    """Human names of a discrete action space, in action order."""
    base = env.unwrapped
    n = int(env.action_space.n)  # type: ignore[attr-defined]
    if base.spec is not None and base.spec.id.startswith("rlwb/"):
        return MAZE_ACTION_NAMES
    actions = getattr(base, "actions", None)  # minigrid keeps an IntEnum of its actions here
    if actions is not None:
        return tuple(a.name for a in actions)[:n]
    return tuple(f"action {i}" for i in range(n))
