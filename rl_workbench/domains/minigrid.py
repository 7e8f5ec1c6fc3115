"""MiniGrid as a domain: the grid's objects, the agent's place, direction and load, restorable
exactly into minigrid's own env, observed through the env's own observation wrappers.

Why through the env: a MiniGrid agent sees what its wrappers make of ``gen_obs()`` (the full
grid with ``FullyObsWrapper``, the 7x7 view without it), and the grid encoding (object, colour,
state per cell) is minigrid's own (``Grid.encode``/``Grid.decode``). Writing a state back into
the env and asking the wrappers for the observation keeps the workbench's observation identical
to the one the agent was trained on, whichever wrappers it used, and pictures are minigrid's own
renderer. A state is a frozen value (the encoded grid as bytes), so it can be hashed, compared
and searched like a maze level.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, cast

import gymnasium as gym
import numpy as np
import torch
from minigrid.core.constants import COLOR_TO_IDX, IDX_TO_OBJECT, OBJECT_TO_IDX
from minigrid.core.grid import Grid
from minigrid.core.world_object import WorldObj
from minigrid.minigrid_env import MiniGridEnv

from rl_workbench.errors import InvalidArgumentError, InvalidEditError

from . import minigrid_behaviour as behaviour
from .base import Demonstrations, Fork, Rollouts
from .environments import make_env

Cell = tuple[int, int]
EditKind = Literal[
    "move_goal", "toggle_wall", "move_object", "set_door", "move_agent", "turn_agent"
]

EMPTY, WALL, DOOR, KEY, BALL, BOX, GOAL, LAVA = (
    OBJECT_TO_IDX[name] for name in ("empty", "wall", "door", "key", "ball", "box", "goal", "lava")
)
MOVABLE = (KEY, BALL, BOX)
"""Objects an edit may carry to another free cell."""
DOOR_OPEN, DOOR_CLOSED, DOOR_LOCKED = 0, 1, 2
DIRECTIONS = ("right", "down", "left", "up")
"""minigrid's ``agent_dir``: 0 faces right (+x), then clockwise."""
SOLVER_PROBE_LEVELS = 8
"""Levels (seeds 0-7) the MiniGrid solver must be able to walk before an imitation warm start."""


@dataclass(frozen=True)
class MiniGridState:
    """One MiniGrid situation.

    Attributes:
        grid: minigrid's ``Grid.encode()`` (uint8 [width, height, 3]: object, colour, state per
            cell) as bytes, so states hash; :attr:`array` reads it back.
        width, height: the grid's size in cells.
        agent_pos: (x, y), as minigrid counts them.
        agent_dir: 0 right, 1 down, 2 left, 3 up.
        carrying: what the agent holds, encoded (object, colour, state), or None.
    """

    grid: bytes
    width: int
    height: int
    agent_pos: Cell
    agent_dir: int
    carrying: tuple[int, int, int] | None = None

    @classmethod
    def from_array(
        cls,
        array: np.ndarray,
        agent_pos: Cell,
        agent_dir: int,
        carrying: tuple[int, int, int] | None = None,
    ) -> MiniGridState:
        array = np.ascontiguousarray(array, dtype=np.uint8)
        if array.ndim != 3 or array.shape[2] != 3:
            raise InvalidArgumentError(f"a MiniGrid grid is [width, height, 3]; got {array.shape}")
        return cls(
            array.tobytes(),
            int(array.shape[0]),
            int(array.shape[1]),
            (int(agent_pos[0]), int(agent_pos[1])),
            int(agent_dir) % 4,
            None if carrying is None else tuple(int(v) for v in carrying),  # type: ignore[arg-type]
        )

    @property
    def array(self) -> np.ndarray:
        """The encoded grid, uint8 [width, height, 3] (a fresh copy)."""
        return np.frombuffer(self.grid, dtype=np.uint8).reshape(self.width, self.height, 3).copy()

    def object_at(self, cell: Cell) -> int:
        return int(self.array[cell[0], cell[1], 0])

    def cells_of(self, kind: int) -> list[Cell]:
        xs, ys = np.nonzero(self.array[:, :, 0] == kind)
        return [(int(x), int(y)) for x, y in zip(xs, ys, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON form: the encoded grid as rows of [object, colour, state] per cell, by x."""
        return {
            "grid": self.array.tolist(),
            "agent_pos": list(self.agent_pos),
            "agent_dir": self.agent_dir,
            "carrying": None if self.carrying is None else list(self.carrying),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MiniGridState:
        carrying = data.get("carrying")
        return cls.from_array(
            np.asarray(data["grid"], dtype=np.uint8),
            tuple(data["agent_pos"]),  # type: ignore[arg-type]
            int(data["agent_dir"]),
            None if carrying is None else tuple(carrying),  # type: ignore[arg-type]
        )


def _base(env: gym.Env) -> MiniGridEnv:
    return cast(MiniGridEnv, env.unwrapped)


def read_state(env: gym.Env) -> MiniGridState:
    """The state a minigrid env is in (any wrappers around it)."""
    base = _base(env)
    carrying = None if base.carrying is None else tuple(base.carrying.encode())
    return MiniGridState.from_array(
        base.grid.encode(),
        tuple(base.agent_pos),
        int(base.agent_dir),
        carrying,  # type: ignore[arg-type]
    )


def write_state(env: gym.Env, state: MiniGridState) -> None:
    """Put ``state`` into a minigrid env of the same size, exactly (grid, agent, load)."""
    base = _base(env)
    if (base.width, base.height) != (state.width, state.height):
        raise InvalidArgumentError(
            f"a {state.width}x{state.height} MiniGrid state cannot go into a "
            f"{base.width}x{base.height} env"
        )
    base.grid, _ = Grid.decode(state.array)
    base.agent_pos = state.agent_pos
    base.agent_dir = state.agent_dir
    base.carrying = None if state.carrying is None else WorldObj.decode(*state.carrying)  # type: ignore[assignment]  # minigrid types it as None


def observation_of(env: gym.Env, state: MiniGridState) -> np.ndarray:
    """What an agent trained on ``env`` (its observation wrappers included) sees in ``state``."""
    write_state(env, state)
    return current_observation(env)


def current_observation(env: gym.Env) -> np.ndarray:
    """What an agent trained on ``env`` sees in the state the env is in now."""
    chain = []
    layer: Any = env
    while isinstance(layer, gym.Wrapper):
        chain.append(layer)
        layer = layer.env
    obs: Any = _base(env).gen_obs()
    for wrapper in reversed(chain):  # innermost first, as a step would apply them
        if isinstance(wrapper, gym.ObservationWrapper):
            obs = wrapper.observation(obs)
    return np.asarray(obs)


def passable_from(state: MiniGridState, start: Cell) -> set[Cell]:
    """Cells the agent can reach from ``start``: through empty cells, goals, doors and objects
    it can pick up; not through walls or lava; a locked door only once a key of its colour is
    reachable (or carried), as in DoorKey."""
    grid = state.array
    keys = {int(state.carrying[1])} if state.carrying and state.carrying[0] == KEY else set()
    while True:
        seen = {start}
        queue = deque([start])
        while queue:
            x, y = queue.popleft()
            for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if not (0 <= nx < state.width and 0 <= ny < state.height) or (nx, ny) in seen:
                    continue
                kind, colour, door_state = (int(v) for v in grid[nx, ny])
                if kind in (WALL, LAVA):
                    continue
                if kind == DOOR and door_state == DOOR_LOCKED and colour not in keys:
                    continue
                seen.add((nx, ny))
                queue.append((nx, ny))
        found = {int(grid[c][1]) for c in seen if int(grid[c][0]) == KEY}
        if found <= keys:
            return seen
        keys |= found


def _distances(state: MiniGridState, target: Cell) -> dict[Cell, int]:
    """Moves from each cell the agent can reach to ``target`` (turns not counted)."""
    reachable = passable_from(state, target) | {target}
    distance = {target: 0}
    queue = deque([target])
    while queue:
        x, y = queue.popleft()
        for cell in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if cell in reachable and cell not in distance:
                distance[cell] = distance[(x, y)] + 1
                queue.append(cell)
    return distance


def _distances_to(state: MiniGridState, targets: frozenset[Cell]) -> dict[Cell, int]:
    """Moves from each reachable cell to the nearest of ``targets`` (turns not counted)."""
    best: dict[Cell, int] = {}
    for target in targets:
        for cell, d in _distances(state, target).items():
            best[cell] = min(d, best.get(cell, d))
    return best


def legality_problems(state: MiniGridState) -> list[str]:
    """Why ``state`` is not one minigrid's level generators could make (empty: it could): the
    outer wall closed, the agent on a free cell inside, at most one goal and it reachable."""
    grid = state.array
    kinds = grid[:, :, 0]
    problems = []
    border = np.concatenate([kinds[0, :], kinds[-1, :], kinds[:, 0], kinds[:, -1]])
    if (border != WALL).any():
        problems.append("the outer wall has a gap")
    x, y = state.agent_pos
    if not (0 < x < state.width - 1 and 0 < y < state.height - 1):
        problems.append("the agent is outside the room")
    elif int(kinds[x, y]) not in (EMPTY, GOAL) and not (
        kinds[x, y] == DOOR and grid[x, y, 2] == DOOR_OPEN
    ):
        problems.append(f"the agent stands on a {IDX_TO_OBJECT[int(kinds[x, y])]}")
    goals = state.cells_of(GOAL)
    if len(goals) > 1:
        problems.append(f"{len(goals)} goals")
    if goals and not problems and goals[0] not in passable_from(state, state.agent_pos):
        problems.append("the goal cannot be reached")
    return problems


@dataclass(frozen=True)
class Edit:
    """One atomic change to a MiniGrid state.

    Attributes:
        kind: what changes.
        cell: where it acts (the new place for moves, the door for ``set_door``).
        source: ``move_object``: the object's cell before the move.
        value: ``set_door``: the door's new state (0 open, 1 closed, 2 locked);
            ``turn_agent``: the new direction.
    """

    kind: EditKind
    cell: Cell
    source: Cell | None = None
    value: int = 0

    def apply(self, state: MiniGridState) -> MiniGridState:
        """The edited state (raises InvalidEditError when the edit does not fit it)."""
        grid = state.array
        x, y = self.cell
        free = int(grid[x, y, 0]) == EMPTY and self.cell != state.agent_pos
        if self.kind == "turn_agent":
            return replace(state, agent_dir=self.value % 4)
        if self.kind == "move_agent":
            if int(grid[x, y, 0]) != EMPTY:
                raise InvalidEditError(f"the agent cannot stand on {self.cell}: it is not free")
            return replace(state, agent_pos=self.cell)
        if self.kind == "toggle_wall":
            if int(grid[x, y, 0]) == WALL:
                grid[x, y] = (EMPTY, 0, 0)
            elif free:
                grid[x, y] = (WALL, COLOR_TO_IDX["grey"], 0)
            else:
                raise InvalidEditError(f"{self.cell} holds something: no wall can go there")
        elif self.kind in ("move_goal", "move_object"):
            source = self.source if self.kind == "move_object" else _only(state, GOAL)
            if source is None or not free:
                raise InvalidEditError(f"nothing to move, or {self.cell} is not free")
            grid[x, y] = grid[source]
            grid[source] = (EMPTY, 0, 0)
        elif self.kind == "set_door":
            if int(grid[x, y, 0]) != DOOR:
                raise InvalidEditError(f"no door at {self.cell}")
            if self.value != DOOR_OPEN and self.cell == state.agent_pos:
                raise InvalidEditError("the agent stands in the doorway")
            grid[x, y, 2] = self.value
        return MiniGridState.from_array(grid, state.agent_pos, state.agent_dir, state.carrying)

    def describe(self) -> str:
        if self.kind == "turn_agent":
            return f"turn the agent to face {DIRECTIONS[self.value % 4]}"
        if self.kind == "set_door":
            word = ("open", "close", "lock")[self.value]
            return f"{word} the door at {self.cell}"
        if self.kind == "move_object":
            return f"move the object at {self.source} to {self.cell}"
        return {
            "move_goal": "move the goal to",
            "toggle_wall": "toggle the wall at",
            "move_agent": "move the agent to",
        }[self.kind] + f" {self.cell}"


def _only(state: MiniGridState, kind: int) -> Cell | None:
    cells = state.cells_of(kind)
    return cells[0] if len(cells) == 1 else None


@dataclass
class MiniGridDomain:
    """MiniGrid states of one env id as its agents see them.

    Attributes:
        env_id: the MiniGrid id.
        env_kwargs: its keyword arguments.
        env: an env made by ``make_env`` (the workbench's wrappers), used to observe states.
    """

    env_id: str
    env_kwargs: dict[str, Any]
    env: gym.Env

    family: ClassVar[str] = "minigrid"
    methods: ClassVar[tuple[str, ...]] = ("search", "nearest", "guided-projection", "diffusion")
    sample_steps: ClassVar[int] = 50
    sampling: ClassVar[str] = (
        "seeded episodes of the agent (sampled actions), each state after 0-49 steps, "
        "duplicates removed (fewer when 200 episodes in a row bring no new state)"
    )
    dataset_arrays: ClassVar[tuple[str, ...]] = ("grid", "agent_pos", "agent_dir", "carrying")
    dataset_fields: ClassVar[dict[str, str]] = {
        "grid": "minigrid's Grid.encode() [N, width, height, 3] (uint8: object, colour, state "
        "per cell, minigrid's OBJECT_TO_IDX, COLOR_TO_IDX, STATE_TO_IDX)",
        "agent_pos": "agent (x, y) [N, 2] (int64)",
        "agent_dir": "agent direction [N] (int64): 0 right, 1 down, 2 left, 3 up",
        "carrying": "what the agent holds, encoded (object, colour, state) [N, 3] (int64); "
        "(-1, -1, -1) for nothing",
    }

    @classmethod
    def for_env_id(cls, env_id: str, env_kwargs: dict[str, Any] | None = None) -> MiniGridDomain:
        env = make_env(env_id, env_kwargs)
        env.reset(seed=0)  # minigrid builds its grid on reset
        return cls(env_id, dict(env_kwargs or {}), env)

    @property
    def obs_scale(self) -> float:
        return float(max(OBJECT_TO_IDX.values()))

    @property
    def default_generator(self) -> str | None:
        return None

    @property
    def default_autoencoder(self) -> str | None:
        return None

    def observe(self, state: MiniGridState) -> np.ndarray:
        return observation_of(self.env, state)

    def encode(self, state: MiniGridState) -> torch.Tensor:
        return torch.as_tensor(self.observe(state), dtype=torch.float32)

    def decode_like(self, x: torch.Tensor, like: MiniGridState) -> MiniGridState:
        raise InvalidArgumentError(
            "MiniGrid states are edited as grids (the search method), not decoded from "
            "observations."
        )

    def is_on_distribution(self, state: MiniGridState) -> bool | None:
        return not legality_problems(state)

    def is_playable(self, state: MiniGridState) -> bool:
        """Whether the state is legal (outer wall, agent on a free cell, goal reachable)."""
        return not legality_problems(state)

    def distance(self, a: MiniGridState, b: MiniGridState) -> float:
        """Atomic edits between two states: each changed cell, except that an object (the goal,
        a key, ball or box) that left one cell for another counts once; plus one each for the
        agent's place, its direction and what it carries."""
        if (a.width, a.height) != (b.width, b.height):
            return float("inf")
        before, after = a.array, b.array
        changed = [(int(x), int(y)) for x, y in np.argwhere((before != after).any(axis=2))]
        left = [c for c in changed if before[c][0] != EMPTY and after[c][0] == EMPTY]
        arrived = [c for c in changed if before[c][0] == EMPTY and after[c][0] not in (EMPTY, WALL)]
        moves = 0
        for c in left:
            match = next((d for d in arrived if (before[c] == after[d]).all()), None)
            if match is not None:
                arrived.remove(match)
                moves += 1
        return float(
            len(changed)
            - moves
            + (a.agent_pos != b.agent_pos)
            + (a.agent_dir != b.agent_dir)
            + (a.carrying != b.carrying)
        )

    def content_digest(self, state: MiniGridState) -> str:
        digest = hashlib.sha256(state.grid)
        digest.update(repr((state.agent_pos, state.agent_dir, state.carrying)).encode())
        return digest.hexdigest()[:16]

    def state_to_json(self, state: MiniGridState) -> Any:
        return state.to_dict()

    def state_arrays(self, state: MiniGridState) -> np.ndarray | None:
        return None

    def pair_metrics(self, a: MiniGridState, b: MiniGridState) -> dict[str, float]:
        return {}

    def picture(self, state: MiniGridState, tile_size: int | None = None) -> np.ndarray:
        """minigrid's own drawing of the state (uint8 RGB), the agent as its red triangle; tiles
        of 16 px, larger for small rooms (about 160 px across)."""
        if tile_size is None:
            tile_size = max(16, 160 // state.width)
        write_state(self.env, state)
        return np.asarray(_base(self.env).get_frame(highlight=False, tile_size=tile_size))

    def state_from_env(self, env: gym.Env, obs: np.ndarray) -> MiniGridState:
        return read_state(env)

    def states_from_arrays(self, arrays: Mapping[str, np.ndarray]) -> list[MiniGridState]:
        a = arrays
        return [
            MiniGridState.from_array(
                a["grid"][i],
                (int(a["agent_pos"][i][0]), int(a["agent_pos"][i][1])),
                int(a["agent_dir"][i]),
                None if a["carrying"][i][0] < 0 else tuple(int(v) for v in a["carrying"][i]),  # type: ignore[arg-type]
            )
            for i in range(len(a["grid"]))
        ]

    def state_row(self, state: MiniGridState) -> dict[str, np.ndarray]:
        return {
            "grid": state.array,
            "agent_pos": np.asarray(state.agent_pos, dtype=np.int64),
            "agent_dir": np.int64(state.agent_dir),  # type: ignore[dict-item]
            "carrying": np.asarray(state.carrying or (-1, -1, -1), dtype=np.int64),
        }

    def sample_states(
        self,
        env: gym.Env,
        act: Callable[[np.ndarray, np.random.Generator], int],
        n: int,
        seed: int,
    ) -> list[MiniGridState]:
        rng = np.random.default_rng(seed)
        states: list[MiniGridState] = []
        seen: set[MiniGridState] = set()
        episode = stale = 0
        # an agent that meets few distinct states (a small room) ends the draw early
        while len(states) < n and episode < 20 * n and stale < 200:
            obs, _ = env.reset(seed=seed * 100_003 + episode)
            episode += 1
            for _ in range(int(rng.integers(self.sample_steps))):
                obs, _, terminated, truncated, _ = env.step(act(obs, rng))
                if terminated or truncated:
                    break
            else:
                state = read_state(env)
                stale += 1
                if state not in seen:
                    seen.add(state)
                    states.append(state)
                    stale = 0
        return states

    # -- behaviour: where the agent goes (see :mod:`.minigrid_behaviour`) -----------------------
    landmarks: ClassVar[tuple[str, ...]] = behaviour.LANDMARKS
    goal_edit_kinds: ClassVar[tuple[str, ...]] = ("move_goal",)

    def has_landmark(self, state: MiniGridState, goal: str) -> bool:
        return bool(behaviour.landmark_cells(state, goal))

    def first_move_toward(self, state: MiniGridState, goal: str) -> int | None:
        """The first action of a shortest way to ``goal`` counting turns (forward first among
        equals); for a goal only reachable through doors or keys, forward when the next cell of
        a shortest walk is ahead, else the turn toward it (minigrid's actions: 0 left, 1 right,
        2 forward)."""
        cells = behaviour.landmark_cells(state, goal)
        if not cells:
            return None
        pose = behaviour.pose_of(state)
        exact = behaviour.best_actions(
            state, pose, behaviour.steps_to_go(state, cells), behaviour.standable(state)
        )
        if exact:
            return exact[0]
        target = _only(state, GOAL) if goal == "goal" else None
        if target is None:
            return None
        distance = _distances(state, target)
        x, y = state.agent_pos
        if (x, y) not in distance or distance[(x, y)] == 0:
            return None
        steps = [
            (d, (x + dx, y + dy))
            for d, (dx, dy) in enumerate(behaviour.STEPS)
            if distance.get((x + dx, y + dy), -1) == distance[(x, y)] - 1
        ]
        if any(d == state.agent_dir for d, _ in steps):
            return 2
        wanted = steps[0][0]
        return 1 if (wanted - state.agent_dir) % 4 == 1 else 0

    def fork(self, state: MiniGridState, goal: str, proxy: str) -> Fork | None:
        return behaviour.find_fork(state, goal, proxy)

    def landmark_cells(self, state: MiniGridState, landmark: str) -> frozenset[Cell]:
        return behaviour.landmark_cells(state, landmark)

    def shortest_steps(self, state: MiniGridState, landmark: str) -> int | None:
        """Fewest actions (turns counted) to ``landmark``, on open floor; None: no such way."""
        cells = behaviour.landmark_cells(state, landmark)
        return behaviour.steps_to_go(state, cells).get(behaviour.pose_of(state)) if cells else None

    def roll_out(
        self,
        states: Sequence[MiniGridState],
        probs: Callable[[torch.Tensor], torch.Tensor],
        goal: str,
        *,
        greedy: bool = True,
        rng: np.random.Generator | None = None,
        until_reached: bool = False,
        rivals: Sequence[str] | None = None,
    ) -> Rollouts:
        """Play each state out in minigrid's own env (its dynamics: turns, doors, pickups, lava)
        with the agent, greedy or sampled, until ``goal`` or one of ``rivals`` (None: none) is
        reached (its start included), the episode's end, the env's step limit or (greedy) a
        repeated situation. Only named landmarks end a rollout: ``reach:goal`` in FourRooms
        should not stop where a room's bottom-right square happens to be."""
        if not greedy and rng is None:
            raise InvalidArgumentError("Sampled rollouts need a random generator (rng).")
        env = make_env(self.env_id, self.env_kwargs)
        env.reset(seed=0)
        limit = _base(env).max_steps
        first: list[frozenset[str]] = []
        closest = np.full(len(states), -1)
        steps = np.zeros(len(states), dtype=int)
        calls = 0
        for i, state in enumerate(states):
            if until_reached and any(goal in f for f in first):
                first += [frozenset()] * (len(states) - i)  # one reached: the rest unplayed
                break
            names = (goal, *(rivals or ()))
            where = {name: behaviour.landmark_cells(state, name) for name in names}
            distance = _distances_to(state, where[goal])
            write_state(env, state)
            _base(env).step_count = 0
            current, seen = state, {state}
            reached = behaviour.reached(current, where)
            closest[i] = distance.get(state.agent_pos, -1)
            for _ in range(0 if reached else limit):
                p = probs(torch.as_tensor(current_observation(env), dtype=torch.float32)[None])
                calls += 1
                weights = p[0].detach().double().numpy()
                if greedy or rng is None:
                    action = int(weights.argmax())
                else:
                    action = int(rng.choice(len(weights), p=weights / weights.sum()))
                _, _, terminated, truncated, _ = env.step(action)
                steps[i] += 1
                current = read_state(env)
                here = distance.get(current.agent_pos, -1)
                if here >= 0 and (closest[i] < 0 or here < closest[i]):
                    closest[i] = here
                reached = behaviour.reached(current, where)
                if reached or terminated or truncated or (greedy and current in seen):
                    break
                seen.add(current)
            first.append(reached)
        env.close()
        return Rollouts(first, closest, steps, calls)

    # -- the solver's demonstrations, for an imitation warm start -------------------------------
    def solver_refusal(self) -> str | None:
        """Why the shortest-way solver cannot solve this env's levels (None: it can): it walks
        open floor to the goal, so levels with doors, keys or lava are refused before training.

        Judged on the levels of seeds 0 to ``SOLVER_PROBE_LEVELS - 1``, freshly drawn, not on
        whatever level the env holds: a family may put a door in only some of its levels.
        """
        try:
            for seed in range(SOLVER_PROBE_LEVELS):
                self.env.reset(seed=seed)
                state = read_state(self.env)
                kinds = set(np.unique(state.array[:, :, 0]).tolist())
                blocked = sorted(IDX_TO_OBJECT[k] for k in kinds & {DOOR, KEY, BOX, LAVA})
                if blocked or self.shortest_steps(state, "goal") is None:
                    return (
                        f"{self.env_id}'s levels need more than walking to the goal (level of "
                        f"seed {seed}: {', '.join(blocked) or 'the goal is out of reach'}); the "
                        "MiniGrid solver only walks open floor"
                    )
            return None
        finally:
            self.env.reset(seed=0)  # as the domain was made (for_env_id)

    def demonstrations(
        self, env: gym.Env, n: int, rng: np.random.Generator, gamma: float
    ) -> Demonstrations:
        """``n`` solved states: levels drawn by ``env``'s own generator, the agent at the level's
        start or (7 in 8) on a uniformly drawn square facing a uniformly drawn way (an agent in
        training is met everywhere); the action starts a shortest way to the goal, turns
        counted (forward first among equals); the return is minigrid's reward for arriving
        ``d`` actions later from a fresh episode, ``gamma ** (d - 1) * (1 - 0.9 d / max_steps)``
        (a warm start for the value head, not the exact return of a mid-episode state)."""
        observations: list[np.ndarray] = []
        actions: list[int] = []
        returns: list[float] = []
        per_level = 8
        limit = _base(env).max_steps
        while len(actions) < n:
            env.reset(seed=int(rng.integers(2**31)))
            level = read_state(env)
            goal = behaviour.landmark_cells(level, "goal")
            to_goal = behaviour.steps_to_go(level, goal)
            can_stand = behaviour.standable(level)
            floor = [c for c in zip(*np.nonzero(can_stand), strict=True) if c not in goal]
            poses = [behaviour.pose_of(level)] + [
                (int(floor[i][0]), int(floor[i][1]), int(rng.integers(4)))
                for i in rng.integers(len(floor), size=per_level - 1)
            ]
            for pose in poses:
                if len(actions) >= n:
                    break
                moves = behaviour.best_actions(level, pose, to_goal, can_stand)
                if not moves:
                    continue
                placed = replace(level, agent_pos=(pose[0], pose[1]), agent_dir=pose[2])
                d = to_goal[pose]
                observations.append(observation_of(env, placed))
                actions.append(moves[0])
                returns.append(gamma ** (d - 1) * max(0.0, 1 - 0.9 * d / limit))
        return Demonstrations(
            observations=np.stack(observations),
            actions=np.asarray(actions, dtype=np.int64),
            returns=np.asarray(returns, dtype=np.float32),
        )

    def edits(self, state: MiniGridState) -> Iterator[Edit]:
        """Every atomic edit: move the goal or an object to a free cell, put up or take down an
        inner wall, set a door open, closed or locked, move or turn the agent."""
        grid = state.array
        kinds = grid[:, :, 0]
        inner = [(x, y) for x in range(1, state.width - 1) for y in range(1, state.height - 1)]
        free = [c for c in inner if kinds[c] == EMPTY and c != state.agent_pos]
        goal = _only(state, GOAL)
        if goal is not None:
            yield from (Edit("move_goal", c) for c in free)
        for c in inner:
            if kinds[c] == WALL or c in free:
                yield Edit("toggle_wall", c)
        for source in inner:
            if kinds[source] in MOVABLE:
                yield from (Edit("move_object", c, source) for c in free)
            if kinds[source] == DOOR:
                for value in (DOOR_OPEN, DOOR_CLOSED, DOOR_LOCKED):
                    if value != grid[source][2]:
                        yield Edit("set_door", source, value=value)
        yield from (Edit("move_agent", c) for c in free)
        for direction in range(4):
            if direction != state.agent_dir:
                yield Edit("turn_agent", state.agent_pos, value=direction)
