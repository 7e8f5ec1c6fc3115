"""The one place that names the concrete domains: which family an env id or a state belongs to,
and the domain object that speaks for it.

Everything above ``domains`` asks :func:`domain_for` (or :func:`family_of_state`) and then the
domain; layers that own family-specific pieces a domain cannot hold without importing upward
(report figures, quiz widgets, diffusion algorithms, generator classes) keep a small table keyed by
``domain.family``. Adding a domain touches its own module and the two tables below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rl_workbench.envs.maze import MazeEnv, MazeState
from rl_workbench.errors import InvalidArgumentError, UnknownNameError

from .atari import AtariDomain, AtariState
from .base import Domain
from .environments import env_family, make_env
from .maze import MazeDomain
from .minigrid import MiniGridDomain, MiniGridState


def _maze_domain(env_id: str, env_kwargs: dict[str, Any] | None) -> Domain:
    env = make_env(env_id, env_kwargs)
    try:
        return MazeDomain.from_env(env)
    finally:
        env.close()


DOMAIN_BUILDERS: dict[str, Callable[[str, dict[str, Any] | None], Domain]] = {
    "maze": _maze_domain,
    "atari": lambda env_id, _kwargs: AtariDomain(env_id),
    "minigrid": MiniGridDomain.for_env_id,
}
"""How each family's domain is made from an env id and its keyword arguments."""

STATE_TYPES: dict[type, str] = {
    MazeState: "maze",
    AtariState: "atari",
    MiniGridState: "minigrid",
}
"""Each family's state type (how a bare state says which family it belongs to)."""


def family_of(env_id: str) -> str:
    """The family of an env id ("maze", "atari", "minigrid"; UnknownNameError otherwise)."""
    return env_family(env_id)


def has_domain(env_id: str) -> bool:
    """Whether states of ``env_id`` can be explained, edited and drawn (a domain exists)."""
    return env_family(env_id) in DOMAIN_BUILDERS


STATES_INTERCHANGE = frozenset({"maze"})
"""Families whose env ids share one state format, so states of one id are states of another
(every maze id: the variants differ only in how levels are drawn; Atari games differ)."""


def states_interchange(env_id: str, other_id: str) -> bool:
    """Whether states collected on ``env_id`` are states of ``other_id`` too (unknown ids: no)."""
    try:
        family = env_family(env_id)
        return family == env_family(other_id) and family in STATES_INTERCHANGE
    except UnknownNameError:
        return False


def domain_for(env_id: str, env_kwargs: dict[str, Any] | None = None) -> Domain:
    """The domain of an environment as its agents see it (observation mode and world size
    included).

    Raises:
        UnknownNameError: the id is in no supported family.
        InvalidArgumentError: the family has no domain.
    """
    family = env_family(env_id)
    build = DOMAIN_BUILDERS.get(family)
    if build is None:
        raise InvalidArgumentError(
            f"Counterfactuals, quizzes and audits work on {_families()} agents; {env_id} is a "
            f"{family} environment. Datasets of it can be made with `rlwb collect`."
        )
    return build(env_id, env_kwargs)


def domain_for_env(env: gym.Env) -> Domain:
    """The domain of an env already made (a maze env is read directly, so one built by hand
    works too; others by their spec's id and keyword arguments)."""
    if isinstance(env.unwrapped, MazeEnv):  # the env is at hand: read its configuration
        return MazeDomain.from_env(env)
    spec = env.unwrapped.spec
    if spec is None:
        raise InvalidArgumentError(
            f"{type(env.unwrapped).__name__} was not made from a registered id; make it with "
            "rl_workbench.domains.make_env."
        )
    return domain_for(spec.id, dict(spec.kwargs))


def family_of_state(state: Any) -> str:
    """The family a state belongs to, by its type.

    Raises:
        InvalidArgumentError: the object is no registered family's state.
    """
    for state_type, family in STATE_TYPES.items():
        if isinstance(state, state_type):
            return family
    raise InvalidArgumentError(
        f"{type(state).__name__} is not the state of any domain ({_families()})."
    )


def _families() -> str:
    return " and ".join(sorted(DOMAIN_BUILDERS))
