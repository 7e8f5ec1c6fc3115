"""Let the game itself re-render a frame stack after its RAM is edited (issue 12, section 4).

A stack the agent saw is four screens of one game. To change an object and keep every frame a
screen the game could show, the emulator goes back to the moment before the stack's first frame,
the edit is written into its RAM, and the agent's recorded actions are played again with the same
randomness; the game draws the new stack. A :class:`Moment` is what that needs, recorded while
the state is sampled (:class:`MomentRecorder`), and :class:`Replayer` plays it.

Two pieces of emulator state are not in the ALE's snapshot and are restored by hand:

- **sticky actions** (``repeat_action_probability`` 0.25 in ``-v5``): the ALE repeats its
  *previous* action with that probability on every frame, and the previous action is not part of
  ``cloneState``. The replayer first plays the recorded previous action for
  :data:`PRIMING_FRAMES` frames (the chance it is still not in place is 0.25^24), then restores
  the snapshot, randomness included. Without this, 2 of 39 sampled Space Invaders stacks did not
  re-render exactly and a second replay differed from the first; with it, 39 of 39 and 9 of 9
  Breakout stacks re-render bit for bit (measured with random play, seeds 1,000+).
- **lives**, which stable-baselines3's ``EpisodicLifeEnv`` counts outside the emulator.

A stack that starts a game (padding frames before a game's first screen) has no earlier moment
to edit: its moment is None.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np

FRAME_STACK = 4
"""Frames per stack (as ``atari.FRAME_STACK``; repeated here so the arrow points one way)."""

PRIMING_FRAMES = 24
"""Frames of the previous action played before a restore, so sticky actions repeat the right one."""

LIFE_RESTART = None
"""An operation of a moment: the next life starts (``env.reset()`` after a lost life)."""


@dataclass(frozen=True, eq=False)
class Moment:
    """How the game can draw one stack again.

    Attributes:
        env_id: the ALE game id (with ``env_kwargs``, how to build the emulator).
        env_kwargs: keyword arguments of ``gym.make``.
        snapshot: the emulator (RAM, CPU, randomness) before the stack's first real frame.
        ram: the RAM at ``snapshot`` (read-only), where object edits are computed.
        lives: ``EpisodicLifeEnv``'s count of lives at ``snapshot``.
        previous_action: the agent action played just before ``snapshot`` (sticky actions
            repeat it).
        operations: what produced each real frame, oldest first: an agent action, or
            :data:`LIFE_RESTART`.
        padding: black frames before the first real one (a life's first stacks).
    """

    env_id: str
    env_kwargs: Mapping[str, Any]
    snapshot: Any = field(repr=False)
    ram: np.ndarray = field(repr=False)
    lives: int
    previous_action: int
    operations: tuple[int | None, ...]
    padding: int


class MomentRecorder:
    """Keeps the last few operations of the game being played, to make :class:`Moment` s.

    The caller reports every operation *before* it happens (:meth:`before_step`,
    :meth:`before_life_restart`) and every fresh game (:meth:`new_game`).
    """

    def __init__(self, env: gym.Env) -> None:
        self._env = env
        self._ale = env.unwrapped.ale  # type: ignore[attr-defined]
        self._episodic = episodic_life(env)
        spec = env.unwrapped.spec
        if spec is None:
            raise ValueError("the Atari env has no spec: it must be made with gym.make")
        self._env_id = spec.id
        self._env_kwargs = dict(spec.kwargs)
        # The last action a reset plays: stable-baselines3's FireResetEnv ends every reset (a new
        # game or the next life) with step(2); without it, the no-op of EpisodicLifeEnv's reset.
        self._after_reset = 2 if _has_fire_reset(env) else 0
        self._log: deque[tuple[Any, np.ndarray, int, int | None]] = deque(maxlen=FRAME_STACK + 1)

    def new_game(self) -> None:
        self._log.clear()

    def before_step(self, action: int) -> None:
        self._remember(action)

    def before_life_restart(self) -> None:
        self._remember(LIFE_RESTART)

    def _remember(self, operation: int | None) -> None:
        snapshot = self._ale.cloneState(include_rng=True)
        ram = self._ale.getRAM().copy()
        ram.setflags(write=False)
        lives = int(self._episodic.lives) if self._episodic is not None else 0
        self._log.append((snapshot, ram, lives, operation))

    def moment(self, padding: int) -> Moment | None:
        """The moment of the stack just observed (``padding`` black frames), or None when the
        stack starts a game."""
        needed = FRAME_STACK - padding
        if len(self._log) < needed:
            return None
        entries = list(self._log)[-needed:]
        earlier = list(self._log)[: len(self._log) - needed]
        previous = earlier[-1][3] if earlier else LIFE_RESTART  # none: the game's own reset
        snapshot, ram, lives, _ = entries[0]
        return Moment(
            env_id=self._env_id,
            env_kwargs=self._env_kwargs,
            snapshot=snapshot,
            ram=ram,
            lives=lives,
            previous_action=self._after_reset if previous is LIFE_RESTART else int(previous),
            operations=tuple(entry[3] for entry in entries),
            padding=padding,
        )


class Replayer:
    """One emulator behind stable-baselines3's ``AtariWrapper``, for drawing moments again."""

    def __init__(self, env_id: str, env_kwargs: Mapping[str, Any]) -> None:
        import ale_py
        from stable_baselines3.common.atari_wrappers import AtariWrapper

        gym.register_envs(ale_py)
        self.env = AtariWrapper(gym.make(env_id, **dict(env_kwargs)))
        self.env.reset(seed=0)  # gymnasium refuses a step before the first reset
        self._ale = self.env.unwrapped.ale  # type: ignore[attr-defined]
        self._action_set = self.env.unwrapped._action_set  # type: ignore[attr-defined]
        self._episodic = episodic_life(self.env)

    def render(self, moment: Moment, ram: np.ndarray | None = None) -> np.ndarray | None:
        """The uint8 [84, 84, 4] stack the game draws from ``moment`` with its RAM set to
        ``ram`` (None: unedited), or None when the edited game parts from the recorded one (a
        life lost where none was, or none lost where one was, or the game ends)."""
        self._restore(moment)
        if ram is not None:
            for index in np.flatnonzero(ram != moment.ram):
                self._ale.setRAM(int(index), int(ram[index]))
        frames: list[np.ndarray] = []
        operations = moment.operations
        for i, operation in enumerate(operations):
            if operation is LIFE_RESTART:
                obs, _ = self.env.reset()
                if self._ale.getEpisodeFrameNumber() <= moment.snapshot.getEpisodeFrameNumber():
                    return None  # the game ended during the restart: a fresh game, not a replay
            else:
                obs, _, terminated, truncated, _ = self.env.step(operation)
                life_lost_next = i + 1 < len(operations) and operations[i + 1] is LIFE_RESTART
                if truncated or bool(terminated) != life_lost_next:
                    return None
                if terminated and self._episodic is not None and self._episodic.was_real_done:
                    return None
            frames.append(np.asarray(obs)[..., 0])
        stack = np.zeros((*frames[0].shape, FRAME_STACK), dtype=np.uint8)
        stack[..., moment.padding :] = np.stack(frames, axis=-1)
        return stack

    def _restore(self, moment: Moment) -> None:
        previous = self._action_set[moment.previous_action]
        self._ale.restoreState(moment.snapshot)
        for _ in range(PRIMING_FRAMES):
            self._ale.act(previous)
        self._ale.restoreState(moment.snapshot)
        if self._episodic is not None:
            self._episodic.lives = moment.lives
            self._episodic.was_real_done = False


def replayer_for(moment: Moment) -> Replayer:
    """A cached :class:`Replayer` for the moment's game (one emulator per game and settings)."""
    return _replayer(moment.env_id, json.dumps(dict(moment.env_kwargs), sort_keys=True))


@lru_cache(maxsize=4)
def _replayer(env_id: str, env_kwargs_json: str) -> Replayer:
    return Replayer(env_id, json.loads(env_kwargs_json))


def find_wrapper(env: gym.Env, wrapper: type) -> Any | None:
    """The first ``wrapper`` instance in ``env``'s wrapper chain, or None."""
    inner: Any = env
    while inner is not None:
        if isinstance(inner, wrapper):
            return inner
        inner = getattr(inner, "env", None)
    return None


def _has_fire_reset(env: gym.Env) -> bool:
    from stable_baselines3.common.atari_wrappers import FireResetEnv

    return find_wrapper(env, FireResetEnv) is not None


def episodic_life(env: gym.Env) -> Any | None:
    """SB3's ``EpisodicLifeEnv`` inside ``env``'s wrapper chain, or None."""
    from stable_baselines3.common.atari_wrappers import EpisodicLifeEnv

    return find_wrapper(env, EpisodicLifeEnv)
