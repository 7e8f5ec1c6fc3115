"""``MazeEnv``: a faithful, pure-Python re-implementation of procgen's Maze.

## Description
A perfect maze (randomized Kruskal) of odd side, centred in a fixed square world. The mouse starts
at the maze's bottom-left cell and must reach the cheese (+10, the episode ends). Langosco et al.'s
variants are keyword arguments: ``cheese_region=k`` puts the cheese in the top-right k x k block
of the maze during training (k = 0 or 1: exactly the corner); ``sign`` adds a green sign that
marks the cheese (``"on_cheese"``), is placed away from it (``"away"``), or lands on any free
square but the mouse's, drawn without regard to the cheese (``"independent"``: the honest control
for the sign suite, an agent that has seen signs that mean nothing).

## Action space
``Discrete(4)``: 0 up, 1 down, 2 left, 3 right. procgen has 15 actions; its Maze moves only on
LEFT (1), DOWN (3), UP (5) and RIGHT (7); the diagonal combinations (0, 2, 6, 8) move along one axis
at most and the rest (NOOP, buttons 9-14) do nothing, so we keep the four that matter:
ours 0/1/2/3 = procgen 5/3/1/7. Moving into a wall leaves the mouse where it is.

## Observation space
``obs_mode="symbolic"`` (default): float32 [6, W, W] one-hot channels wall, free, mouse, cheese,
sign, out_of_maze. ``obs_mode="rgb"``: uint8 [64, 64, 3] like procgen.

## Rewards
+10 on reaching the cheese, 0 otherwise.

## Episode end
Terminated on the cheese; truncated after ``max_steps`` (500, as procgen).

## Info
``got_cheese``, ``reached_corner`` and ``reached_sign`` (whether the mouse has stood on the
top-right corner / the sign at any time this episode), ``optimal_steps`` (BFS moves from the
episode's start to the cheese), ``steps``, ``mouse``.

## State API
``get_state()`` returns a :class:`MazeState`; ``set_state(state)`` restores it;
``reset(options={"state": state})`` starts an episode from exactly that level.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_workbench.errors import InvalidArgumentError
from rl_workbench.types import ObsMode, SignMode

from .generation import generate_level
from .render import CHANNELS, RGB_OBS_SIZE, render_picture, rgb_observation, symbolic_observation
from .state import MOVES, MazeState, bfs_distances, fits_variant

ACTION_NAMES: tuple[str, ...] = ("up", "down", "left", "right")
"""Names of the four actions, in action order."""

PROCGEN_ACTIONS: dict[str, int] = {"up": 5, "down": 3, "left": 1, "right": 7}
"""Index of the same move in procgen's 15-action space."""

_SIGN_MODES = ("none", "on_cheese", "away", "independent")
_OBS_MODES = ("symbolic", "rgb")


class MazeEnv(gym.Env[np.ndarray, np.int64]):
    """procgen-style Maze with cheese-region and green-sign variants (see module docstring).

    Args:
        min_size: smallest maze side (odd, >= 3).
        max_size: largest maze side (odd, <= 25 as in procgen); 7 by default so agents train
            on a CPU in minutes.
        world_size: side of the world the maze is padded into; defaults to ``max_size``.
        cheese_region: None for cheese anywhere; k for the top-right k x k block.
        sign: "none", "on_cheese" (sign marks the cheese), "away" (sign elsewhere) or
            "independent" (any free square but the mouse's, the cheese's included).
        obs_mode: "symbolic" or "rgb".
        max_steps: steps before truncation.
        render_mode: None or "rgb_array" (a large picture for people).
        cell_px: pixels per cell in ``render()``.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 8}  # noqa: RUF012

    def __init__(
        self,
        *,
        min_size: int = 3,
        max_size: int = 7,
        world_size: int | None = None,
        cheese_region: int | None = None,
        sign: SignMode = "none",
        obs_mode: ObsMode = "symbolic",
        max_steps: int = 500,
        render_mode: str | None = None,
        cell_px: int = 24,
    ) -> None:
        world_size = max_size if world_size is None else world_size
        _check_args(min_size, max_size, world_size, cheese_region, sign, obs_mode, max_steps)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InvalidArgumentError(
                f"render_mode must be None or 'rgb_array', got {render_mode!r}."
            )
        self.sizes = tuple(range(min_size, max_size + 1, 2))
        self.world_size = world_size
        self.cheese_region = cheese_region
        self.sign_mode: SignMode = sign
        self.obs_mode: ObsMode = obs_mode
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.cell_px = cell_px
        self.action_space = spaces.Discrete(len(MOVES))
        if obs_mode == "symbolic":
            self.observation_space = spaces.Box(
                0.0, 1.0, (len(CHANNELS), world_size, world_size), dtype=np.float32
            )
        else:
            self.observation_space = spaces.Box(
                0, 255, (RGB_OBS_SIZE, RGB_OBS_SIZE, 3), dtype=np.uint8
            )
        self._state: MazeState | None = None
        self._steps = 0
        self._optimal_steps = 0
        self._reached_corner = False
        self._reached_sign = False

    # -- gymnasium API ----------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        if "state" in options:
            state = options["state"]
            if isinstance(state, dict):
                state = MazeState.from_dict(state)
            self.set_state(state)
        else:
            self._begin(
                generate_level(
                    self.np_random,
                    sizes=self.sizes,
                    world_size=self.world_size,
                    cheese_region=self.cheese_region,
                    sign=self.sign_mode,
                )
            )
        return self.observation(), self._info(got_cheese=False)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        state = self._require_state()
        a = int(action)
        if not 0 <= a < len(MOVES):
            raise InvalidArgumentError(f"action must be in 0..{len(MOVES) - 1}, got {action!r}.")
        dr, dc = MOVES[a]
        target = (state.mouse[0] + dr, state.mouse[1] + dc)
        if state.is_free(target):
            state = state.replace(mouse=target)
            self._state = state
        self._steps += 1
        self._note_visits()
        got_cheese = state.mouse == state.cheese
        reward = 10.0 if got_cheese else 0.0
        truncated = not got_cheese and self._steps >= self.max_steps
        return self.observation(), reward, got_cheese, truncated, self._info(got_cheese)

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        if self.render_mode != "rgb_array":
            return None
        return render_picture(self._require_state(), self.cell_px)

    # -- state API --------------------------------------------------------------------------------
    def get_state(self) -> MazeState:
        """The current level (immutable; edits return new states)."""
        return self._require_state()

    def set_state(self, state: MazeState) -> None:
        """Restore a level exactly and restart the episode bookkeeping from it."""
        if not isinstance(state, MazeState):
            raise InvalidArgumentError(
                "set_state needs a MazeState (or its to_dict() form in reset), "
                f"got {type(state).__name__}."
            )
        if state.world_size != self.world_size:
            raise InvalidArgumentError(
                f"The state's world is {state.world_size}x{state.world_size} but this env's is "
                f"{self.world_size}x{self.world_size}; "
                f"make the env with world_size={state.world_size}."
            )
        self._begin(state)

    def observation(self, state: MazeState | None = None) -> np.ndarray:
        """The observation of ``state`` (default: the current one) in this env's obs mode."""
        state = self._require_state() if state is None else state
        if self.obs_mode == "symbolic":
            return symbolic_observation(state)
        return rgb_observation(state)

    def is_on_distribution(self, state: MazeState) -> bool:
        """Whether this env's level generator could have produced ``state``."""
        return fits_variant(state, self.sizes, self.cheese_region, self.sign_mode)

    # -- internals --------------------------------------------------------------------------------
    def _begin(self, state: MazeState) -> None:
        self._state = state
        self._steps = 0
        dist = bfs_distances(state.walls, state.mouse)
        self._optimal_steps = int(dist[state.cheese])
        self._reached_corner = False
        self._reached_sign = False
        self._note_visits()

    def _note_visits(self) -> None:
        state = self._require_state()
        self._reached_corner |= state.mouse == state.corner
        self._reached_sign |= state.sign is not None and state.mouse == state.sign

    def _info(self, got_cheese: bool) -> dict[str, Any]:
        state = self._require_state()
        return {
            "got_cheese": got_cheese,
            "reached_corner": self._reached_corner,
            "reached_sign": self._reached_sign,
            "optimal_steps": self._optimal_steps,
            "steps": self._steps,
            "mouse": state.mouse,
        }

    def _require_state(self) -> MazeState:
        if self._state is None:
            raise gym.error.ResetNeeded("Call reset() before using the environment.")
        return self._state


def _check_args(
    min_size: int,
    max_size: int,
    world_size: int,
    cheese_region: int | None,
    sign: str,
    obs_mode: str,
    max_steps: int,
) -> None:
    for name, value in (("min_size", min_size), ("max_size", max_size)):
        if not isinstance(value, int) or value < 3 or value > 25 or value % 2 == 0:
            raise InvalidArgumentError(
                f"{name} must be an odd integer in 3..25 (procgen's range), got {value!r}."
            )
    if min_size > max_size:
        raise InvalidArgumentError(f"min_size ({min_size}) must not exceed max_size ({max_size}).")
    if world_size < max_size:
        raise InvalidArgumentError(
            f"world_size ({world_size}) must be at least max_size ({max_size}) to hold every maze."
        )
    if cheese_region is not None and (not isinstance(cheese_region, int) or cheese_region < 0):
        raise InvalidArgumentError(
            f"cheese_region must be None (anywhere) or an integer >= 0, got {cheese_region!r}."
        )
    if sign not in _SIGN_MODES:
        raise InvalidArgumentError(f"sign must be one of {_SIGN_MODES}, got {sign!r}.")
    if obs_mode not in _OBS_MODES:
        raise InvalidArgumentError(f"obs_mode must be one of {_OBS_MODES}, got {obs_mode!r}.")
    if max_steps < 1:
        raise InvalidArgumentError(f"max_steps must be positive, got {max_steps}.")
