"""Build any environment the workbench supports from its id, exactly as its agents saw it.

Families and what an agent of each sees:

- ``rlwb/...``: our maze family, as registered (symbolic channels by default); our goal rooms,
  ``rlwb/MiniGrid-...``, are minigrid envs and wrapped as MiniGrid's.
- ``MiniGrid-...``: minigrid's env behind ``FullyObsWrapper`` + ``ImgObsWrapper``, the usual
  recipe for training a stable-baselines3 agent on a fully observed gridworld; with the
  workbench's own keyword ``view="partial"``, behind ``ImgObsWrapper`` alone (the agent's 7x7
  view, minigrid's default observation).
- ``ALE/...`` (and ``*NoFrameskip-v4``): stable-baselines3's standard Atari pipeline with its
  4-frame stack (see :mod:`rl_workbench.domains.atari`).
"""

from __future__ import annotations

import difflib
from typing import Any

import gymnasium as gym

import rl_workbench.envs  # noqa: F401  (registers the maze family)
from rl_workbench.envs.maze import ACTION_NAMES as MAZE_ACTION_NAMES
from rl_workbench.errors import InvalidArgumentError, UnknownNameError

MINIGRID_VIEWS = ("full", "partial")
"""What a MiniGrid agent may see (the workbench's ``view`` keyword, not minigrid's)."""
FAMILIES = ("rlwb/", "MiniGrid-", "ALE/")
"""Prefixes of the environment ids the workbench knows how to wrap."""


def _register_minigrid() -> None:
    import minigrid  # noqa: F401  (registers MiniGrid-* ids on import)


def env_family(env_id: str) -> str:
    """The family of an id: "maze", "minigrid" or "atari" (UnknownNameError otherwise)."""
    if env_id.startswith("rlwb/MiniGrid-"):
        return "minigrid"  # our goal rooms: minigrid's env class, MiniGrid levels
    if env_id.startswith("rlwb/"):
        return "maze"
    if env_id.startswith("MiniGrid-"):
        return "minigrid"
    if env_id.startswith("ALE/") or env_id.endswith("NoFrameskip-v4"):
        return "atari"
    raise _unknown_env(env_id)


def _unknown_env(env_id: str) -> UnknownNameError:
    """The error for an unregistered id: the close ids only, and where the full list is.

    The full list (every MiniGrid and ALE id) runs to kilobytes, so it is not printed.
    """
    close = difflib.get_close_matches(env_id, known_env_ids(), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(
        f"Unknown environment id {env_id!r}.{hint} `rlwb envs` lists every id the workbench "
        f"runs (families {', '.join(p + '*' for p in FAMILIES)})."
    )


def check_env_id(env_id: str) -> None:
    """Refuse an unregistered environment id, cheaply, before anything slow is loaded.

    Raises:
        UnknownNameError: the id is in no supported family or not registered (close ids named).
    """
    family = env_family(env_id)
    if family == "minigrid":
        _register_minigrid()
    if family == "atari":
        _register_ale()
    if env_id not in gym.registry:
        raise _unknown_env(env_id)


def known_env_ids() -> list[str]:
    """Registered ids of every family the workbench supports."""
    _register_minigrid()
    _register_ale()
    return sorted(i for i in gym.registry if i.startswith(FAMILIES))


def _register_ale() -> None:
    import ale_py

    gym.register_envs(ale_py)


def make_env(
    env_id: str, env_kwargs: dict[str, Any] | None = None, *, render_mode: str | None = None
) -> gym.Env:
    """Make ``env_id`` with the observation wrappers its agents are trained behind.

    Raises:
        UnknownNameError: the id is not registered (with close matches and the valid ids).
        InvalidArgumentError: the keyword arguments are rejected by the environment.
    """
    check_env_id(env_id)
    family = env_family(env_id)
    kwargs = dict(env_kwargs or {})
    view = kwargs.pop("view", "full") if family == "minigrid" else "full"
    if view not in MINIGRID_VIEWS:
        raise InvalidArgumentError(
            f"view={view!r}: a MiniGrid agent sees the full grid or its partial 7x7 view; pass "
            "--env-arg view=full or --env-arg view=partial."
        )
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    try:
        if family == "atari":
            from .atari import make_atari_env

            return make_atari_env(env_id, kwargs)
        env = gym.make(env_id, **kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(
            f"{env_id} does not accept the keyword arguments {sorted(kwargs)}: {exc}"
        ) from None
    if family == "minigrid":
        from minigrid.wrappers import FullyObsWrapper, ImgObsWrapper

        env = ImgObsWrapper(FullyObsWrapper(env) if view == "full" else env)
    return env


def action_names(env: gym.Env) -> tuple[str, ...]:
    """Human names of a discrete action space, in action order."""
    base = env.unwrapped
    n = int(env.action_space.n)  # type: ignore[attr-defined]
    if (
        base.spec is not None
        and base.spec.id.startswith(FAMILIES)
        and (env_family(base.spec.id) == "maze")
    ):
        return MAZE_ACTION_NAMES
    actions = getattr(base, "actions", None)  # minigrid keeps an IntEnum of its actions here
    if actions is not None:
        return tuple(a.name for a in actions)[:n]
    if hasattr(base, "get_action_meanings"):  # the ALE
        return tuple(base.get_action_meanings())[:n]
    return tuple(f"action {i}" for i in range(n))
