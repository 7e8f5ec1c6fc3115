"""The maze domain: maze states as tensors and back, legal edits, and pictures.

``decode`` is where the honesty rule starts: whatever tensor an optimiser or a generator produced,
it is projected onto the nearest *legal* level (a perfect maze on procgen's lattice, one mouse, one
cheese, the sign where the variant allows it), and only that level is ever judged.

A level has two tensor forms. The *level tensor* is always the six symbolic channels
[6, W, W] (what generators model). The *observation* is what the agent was trained on: the same
channels (``obs_mode="symbolic"``) or procgen's 64x64 RGB view (``obs_mode="rgb"``), drawn by
:meth:`MazeDomain.observe_levels`, a differentiable twin of the env's renderer, so gradients of
the agent reach the level tensor whatever it sees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch

from rl_workbench.envs.maze import (
    ARRAY_FIELDS,
    CHANNELS,
    COLORS,
    MOVES,
    MazeEnv,
    MazeState,
    bfs_distances,
    fits_variant,
    render_picture,
    rgb_observation,
    symbolic_observation,
)
from rl_workbench.envs.maze.generation import passages, spanning_tree_walls
from rl_workbench.envs.maze.render import RGB_OBS_SIZE
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.types import Cell, ObsMode, SignMode

from .base import Demonstrations, Rollouts
from .maze_behaviour import LANDMARKS, departure, first_move_toward, landmark_cell, roll_out

EditKind = Literal["move_cheese", "toggle_wall", "move_sign", "move_mouse"]

WALL, FREE, MOUSE, CHEESE, SIGN, OUT = range(len(CHANNELS))

COLOUR_WIDTH = 40.0
"""How far (in 0-255 RGB units) a cell's mean colour may stray from an object's colour and still
count as that object when an RGB observation is read back as channels (a Gaussian's width)."""


@dataclass(frozen=True)
class Edit:
    """One atomic change to a level.

    Attributes:
        kind: what changes.
        cell: the cell it acts on (the new position for moves; None removes the sign).
    """

    kind: EditKind
    cell: Cell | None

    def apply(self, state: MazeState) -> MazeState:
        """The edited level (raises InvalidEditError when illegal)."""
        if self.kind == "move_cheese":
            return state.move_cheese(self.cell)  # type: ignore[arg-type]
        if self.kind == "move_mouse":
            return state.move_mouse(self.cell)  # type: ignore[arg-type]
        if self.kind == "move_sign":
            return state.move_sign(self.cell)
        return state.toggle_wall(self.cell)  # type: ignore[arg-type]

    def describe(self) -> str:
        verb = {
            "move_cheese": "move the cheese to",
            "move_mouse": "move the mouse to",
            "move_sign": "move the sign to",
            "toggle_wall": "toggle the wall at",
        }[self.kind]
        return "remove the sign" if self.cell is None else f"{verb} {self.cell}"


@dataclass(frozen=True)
class MazeDomain:
    """How maze states of one environment configuration become tensors, pictures and back.

    Attributes:
        world_size: side of the world.
        sizes: maze sides the generator draws.
        cheese_region: the generator's cheese region (None: anywhere).
        sign_mode: the generator's sign mode.
        obs_mode: what the agent sees: the symbolic channels or procgen's 64x64 RGB view.
    """

    family: ClassVar[str] = "maze"
    methods: ClassVar[tuple[str, ...]] = (
        "diffusion",
        "guided-projection",
        "search",
        "nearest",
        "pixel",
    )
    sample_steps: ClassVar[int] = 8
    sampling: ClassVar[str] = "episode seed+i after 0-7 of the agent's own steps."
    dataset_arrays: ClassVar[tuple[str, ...]] = ("walls", "maze_size", "mouse", "cheese", "sign")
    dataset_fields: ClassVar[dict[str, str]] = ARRAY_FIELDS
    landmarks: ClassVar[tuple[str, ...]] = LANDMARKS

    world_size: int
    sizes: tuple[int, ...]
    cheese_region: int | None = None
    sign_mode: SignMode = "none"
    obs_mode: ObsMode = "symbolic"

    @classmethod
    def from_env(cls, env: gym.Env) -> MazeDomain:
        """The domain of a maze env's configuration, in the observation mode it emits."""
        base = env.unwrapped
        if not isinstance(base, MazeEnv):
            raise InvalidArgumentError(f"MazeDomain needs a maze env, got {type(base).__name__}.")
        return cls(base.world_size, base.sizes, base.cheese_region, base.sign_mode, base.obs_mode)

    @property
    def channels(self) -> int:
        """Channels of the level tensor (the symbolic objects)."""
        return len(CHANNELS)

    @property
    def obs_scale(self) -> float:
        """Range of one observation value: 1 for 0/1 channels, 255 for RGB pixels."""
        return 1.0 if self.obs_mode == "symbolic" else 255.0

    @property
    def default_generator(self) -> str | None:
        """The shipped level generator of this world size (a 15x15 world's is
        ``maze15-generator``); any other size gets the 7x7 one, whose world size is then refused
        by the method with a pointer to ``rlwb fit-generator``."""
        return {15: "zoo:maze15-generator"}.get(self.world_size, "zoo:maze-generator")

    @property
    def default_autoencoder(self) -> str | None:
        """Mazes have no latent method."""
        return None

    # -- tensors ---------------------------------------------------------------------------------
    def encode(self, state: MazeState) -> torch.Tensor:
        """Exactly what the agent sees, as float32: [6, W, W] 0/1 channels, or [64, 64, 3] RGB
        values in 0-255 (channels last, as the env emits them)."""
        if self.obs_mode == "symbolic":
            return torch.from_numpy(symbolic_observation(state))
        return torch.from_numpy(rgb_observation(state).astype(np.float32))

    def level_tensor(self, state: MazeState) -> torch.Tensor:
        """float32 [6, W, W] one-hot channels, whatever the agent sees (what generators model)."""
        return torch.from_numpy(symbolic_observation(state))

    def observe_levels(self, levels: torch.Tensor) -> torch.Tensor:
        """The agent's observations of a batch of level tensors, differentiably.

        Args:
            levels: [B, 6, W, W] channels in [0, 1] (soft values allowed, e.g. a denoiser's
                clean estimate).

        Returns:
            [B, 6, W, W] unchanged for symbolic agents; for RGB agents [B, 64, 64, 3] in 0-255:
            terrain colours mixed by the wall/free/out channels, then the sign, cheese and mouse
            painted over in that order, scaled up by nearest neighbour. On one-hot levels this is
            exactly the env's ``rgb_observation``.
        """
        if self.obs_mode == "symbolic":
            return levels

        def colour(name: str) -> torch.Tensor:
            return torch.tensor(COLORS[name], dtype=levels.dtype).view(1, 3, 1, 1)

        picture = (
            levels[:, WALL : WALL + 1] * colour("wall")
            + levels[:, FREE : FREE + 1] * colour("free")
            + levels[:, OUT : OUT + 1] * colour("out_of_maze")
        )
        for channel, name in ((SIGN, "sign"), (CHEESE, "cheese"), (MOUSE, "mouse")):
            weight = levels[:, channel : channel + 1]
            picture = picture * (1 - weight) + weight * colour(name)
        idx = torch.from_numpy(_pixel_cells(self.world_size))
        return picture[:, :, idx][:, :, :, idx].permute(0, 2, 3, 1)

    def level_scores(self, obs: torch.Tensor | np.ndarray) -> np.ndarray:
        """float64 [6, W, W] channel scores (higher = more present) of one observation.

        Symbolic observations are their own scores. An RGB observation is read cell by cell:
        each cell's mean colour scores each object by a Gaussian of its distance to the object's
        colour (width :data:`COLOUR_WIDTH`); a cell holding the mouse, cheese or sign is free.
        """
        a = np.asarray(obs.detach().cpu() if isinstance(obs, torch.Tensor) else obs, np.float64)
        if self.obs_mode == "symbolic":
            return a
        side = RGB_OBS_SIZE
        if a.shape != (side, side, 3):
            raise InvalidArgumentError(
                f"An RGB maze observation is [{side}, {side}, 3], got {list(a.shape)}."
            )
        cells = _pixel_cells(self.world_size)
        w = self.world_size
        sums = np.zeros((w, w, 3))
        counts = np.zeros((w, w, 1))
        np.add.at(sums, (cells[:, None], cells[None, :]), a)
        np.add.at(counts, (cells[:, None], cells[None, :]), 1.0)
        mean = sums / np.maximum(counts, 1.0)

        def near(name: str) -> np.ndarray:
            d = np.linalg.norm(mean - np.asarray(COLORS[name], np.float64), axis=-1)
            return np.exp(-((d / COLOUR_WIDTH) ** 2))

        scores = np.zeros((len(CHANNELS), w, w))
        scores[WALL], scores[OUT] = near("wall"), near("out_of_maze")
        scores[MOUSE], scores[CHEESE], scores[SIGN] = near("mouse"), near("cheese"), near("sign")
        on_floor = [near("free"), scores[MOUSE], scores[CHEESE], scores[SIGN]]
        scores[FREE] = np.maximum.reduce(on_floor)
        return scores

    def decode(
        self, x: torch.Tensor | np.ndarray, maze_size: int | None = None, mouse: Cell | None = None
    ) -> MazeState:
        """The nearest legal level to a real-valued tensor [6, W, W] (higher = more present).

        1. maze size: the allowed size whose padding best matches the out-of-maze channel
           (or ``maze_size`` when given, e.g. the original's);
        2. walls: rooms free, pillars walls, and the passages of a *maximum spanning tree* over the
           rooms, weighted by how free each passage looks (free - wall), so the result is always
           a perfect maze and keeps the passages the tensor is most sure of;
        3. cheese, mouse, sign: the free cells where their channels are highest (the cheese in the
           generator's region, the mouse never on the cheese, the sign on the cheese, away from
           it or absent as the variant requires).

        Counterfactual methods pass the original ``maze_size`` and ``mouse``: they edit the world
        around the agent, not its position (the mouse's cell is kept open).
        """
        a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
        if a.shape != (self.channels, self.world_size, self.world_size):
            raise InvalidArgumentError(
                f"decode expects a [{self.channels}, {self.world_size}, {self.world_size}] tensor, "
                f"got {list(a.shape)}."
            )
        size = maze_size if maze_size is not None else self._decode_size(a[OUT])
        if mouse is not None:
            a = a.copy()
            a[FREE][mouse] = a[MOUSE][mouse] = np.inf  # keep its cell open and the mouse on it
            a[CHEESE][mouse] = -np.inf
        walls = self._decode_walls(a, size)
        template = MazeState(walls=walls, maze_size=size, mouse=(0, 0), cheese=(0, 0))
        free = ~walls
        inside = template.maze_mask() & free
        # The cheese first: it carries the tightest constraint (the region), then the mouse.
        cheese_mask = inside.copy()
        if self.cheese_region is not None:
            cheese_mask[:] = False
            for cell in template.region(self.cheese_region):
                cheese_mask[cell] = True
        cheese = _argmax_cell(a[CHEESE], cheese_mask)
        mouse_mask = inside.copy()
        mouse_mask[cheese] = False
        mouse = _argmax_cell(a[MOUSE], mouse_mask)
        sign: Cell | None = None
        if self.sign_mode == "on_cheese":
            sign = cheese
        elif self.sign_mode == "away":
            sign_mask = inside.copy()
            sign_mask[cheese] = False
            sign = _argmax_cell(a[SIGN], sign_mask)
        elif self.sign_mode == "independent":  # anywhere but under the mouse
            sign_mask = inside.copy()
            sign_mask[mouse] = False
            sign = _argmax_cell(a[SIGN], sign_mask)
        return MazeState(walls=walls, maze_size=size, mouse=mouse, cheese=cheese, sign=sign)

    def decode_like(self, x: torch.Tensor | np.ndarray, like: MazeState) -> MazeState:
        """The nearest legal level to an *observation* with ``like``'s maze size and mouse
        (what methods keep); RGB observations are read back as channels first."""
        return self.decode_level_like(self.level_scores(x), like)

    def decode_level_like(self, x: torch.Tensor | np.ndarray, like: MazeState) -> MazeState:
        """The nearest legal level to a *level tensor* [6, W, W] with ``like``'s size and mouse."""
        return self.decode(x, maze_size=like.maze_size, mouse=like.mouse)

    def distance(self, a: MazeState, b: MazeState) -> float:
        """Atomic edits between two levels of the same maze size (inf across sizes)."""
        if a.maze_size != b.maze_size or a.world_size != b.world_size:
            return float("inf")
        walls = int((a.walls != b.walls).sum())
        return float(walls + (a.cheese != b.cheese) + (a.mouse != b.mouse) + (a.sign != b.sign))

    def content_digest(self, state: MazeState) -> str:
        """The level's walls, cheese and sign, wherever the mouse stands: the same maze with the
        mouse moved is the same level to a person who has studied it."""
        key = (state.walls.tobytes(), state.walls.shape, state.maze_size, state.cheese, state.sign)
        return hashlib.sha256(repr(key).encode()).hexdigest()[:24]

    def state_to_json(self, state: MazeState) -> dict:
        return state.to_dict()

    def state_arrays(self, state: MazeState) -> None:
        """Levels are saved in full as JSON; no array file is needed."""
        return None

    def pair_metrics(self, a: MazeState, b: MazeState) -> dict[str, float]:
        """No extra figures: the edit count is the maze's distance."""
        return {}

    def picture(self, state: MazeState) -> MazeState:
        """Maze figures draw the level itself."""
        return state

    def sample_states(
        self,
        env: gym.Env,
        act: Callable[[np.ndarray, np.random.Generator], int],
        n: int,
        seed: int,
    ) -> list[MazeState]:
        """``n`` states the agent meets in play: episode i (``reset(seed + i)``, a fresh level)
        after t of the agent's own steps, t uniform in 0 to ``sample_steps - 1`` (0-7); an
        episode that ends first gives its start state. Duplicates are kept (mazes are drawn
        from a huge space; the figures of issues 3 and 11 were made this way)."""
        rng = np.random.default_rng(seed)
        states: list[MazeState] = []
        for i in range(n):
            obs, _ = env.reset(seed=seed + i)
            for _ in range(int(rng.integers(0, self.sample_steps))):
                obs, _, terminated, truncated, _ = env.step(act(obs, rng))
                if terminated or truncated:
                    obs, _ = env.reset(seed=seed + i)
                    break
            states.append(self.state_from_env(env, obs))
        return states

    def solver_refusal(self) -> str | None:
        return None  # every maze level is solved by its shortest path

    def demonstrations(
        self, env: gym.Env, n: int, rng: np.random.Generator, gamma: float
    ) -> Demonstrations:
        """``n`` solved states: levels drawn by ``env``'s own generator, the mouse at the level's
        start or (7 in 8) on a uniformly drawn free cell, since an agent in training wanders
        everywhere; the action is the one move along the unique shortest path to the cheese, the
        return ``10 * gamma ** (d - 1)`` for a cheese ``d`` moves away (the env's only reward)."""
        base = env.unwrapped
        if not isinstance(base, MazeEnv):
            raise InvalidArgumentError(f"Maze demonstrations need a maze env, got {type(base)}.")
        observations: list[np.ndarray] = []
        actions: list[int] = []
        returns: list[float] = []
        per_level = 8
        while len(actions) < n:
            env.reset(seed=int(rng.integers(2**31)))
            level = base.get_state()
            dist = bfs_distances(level.walls, level.cheese)
            free = [c for c in level.free_cells() if c != level.cheese]
            mice = [level.start] + [
                free[int(i)] for i in rng.integers(len(free), size=per_level - 1)
            ]
            for mouse in mice[: n - len(actions)]:
                d = int(dist[mouse])
                observations.append(base.observation(level.replace(mouse=mouse)))
                actions.append(_downhill_move(dist, mouse))
                returns.append(10.0 * gamma ** (d - 1))
        return Demonstrations(
            observations=np.stack(observations),
            actions=np.asarray(actions, dtype=np.int64),
            returns=np.asarray(returns, dtype=np.float32),
        )

    # -- behaviour ------------------------------------------------------------------------------
    def roll_out(
        self,
        states: Sequence[MazeState],
        probs: Callable[[torch.Tensor], torch.Tensor],
        goal: str,
        *,
        greedy: bool = True,
        rng: np.random.Generator | None = None,
        until_reached: bool = False,
        rivals: Sequence[str] | None = None,
    ) -> Rollouts:
        """Play each level out as the agent sees it (see :mod:`.maze_behaviour`)."""
        observe = self._observer(probs)
        return roll_out(
            states,
            observe,
            goal,
            greedy=greedy,
            rng=rng,
            until_reached=until_reached,
            rivals=rivals,
        )

    def _observer(
        self, probs: Callable[[torch.Tensor], torch.Tensor]
    ) -> Callable[[Sequence[MazeState], Sequence[Cell]], torch.Tensor]:
        """``probs`` as behaviour code calls it, on (levels, mouse squares), each level drawn
        once (``encode_at``'s cache)."""
        bases: dict[int, tuple[MazeState, np.ndarray]] = {}

        def observe(levels: Sequence[MazeState], mice: Sequence[Cell]) -> torch.Tensor:
            pairs = zip(levels, mice, strict=True)
            return probs(torch.stack([self.encode_at(lv, m, bases) for lv, m in pairs]))

        return observe

    def goal_prior(
        self,
        state: MazeState,
        candidates: Sequence[MazeState],
        probs: Callable[[torch.Tensor], torch.Tensor],
        goal: str,
    ) -> tuple[np.ndarray, int]:
        """Each candidate's probability of the goal-ward moves at the square where the greedy
        path on ``state`` leaves the way to ``goal`` (:func:`.maze_behaviour.departure`); a
        candidate that walls that square off changes the path itself, and one that moves
        ``goal`` has a way of its own the square says nothing about: both rank first. Zeros (no
        order) when the path never leaves the way, e.g. it loops before."""
        observe = self._observer(probs)
        found, calls = departure(state, observe, goal)
        scores = np.zeros(len(candidates))
        if found is None or not candidates:
            return scores, calls
        square, toward = found
        here = landmark_cell(state, goal)
        open_here = [
            i
            for i, c in enumerate(candidates)
            if c.is_free(square) and landmark_cell(c, goal) == here
        ]
        scores[:] = 2.0
        if open_here:
            p = observe([candidates[i] for i in open_here], [square] * len(open_here))
            scores[open_here] = p[:, sorted(toward)].sum(dim=1).double().numpy()
        return scores, calls + len(open_here)

    def encode_at(
        self,
        state: MazeState,
        mouse: Cell,
        bases: dict[int, tuple[MazeState, np.ndarray]] | None = None,
    ) -> torch.Tensor:
        """``encode(state.replace(mouse=mouse))`` without building the state: symbolic
        observations differ only in the mouse channel, so the rest is drawn once per level
        (``bases``, keyed by the level object) and reused. Rollouts evaluate tens of thousands
        of squares, where building and drawing a state per square was the measured bottleneck.
        The cache holds the level itself beside its drawing: keyed by ``id`` alone, a level
        freed and another allocated at the same address read the first one's walls."""
        if self.obs_mode != "symbolic":
            return self.encode(state.replace(mouse=mouse))
        bases = {} if bases is None else bases
        cached = bases.get(id(state))
        if cached is not None and cached[0] is state:
            base = cached[1]
        else:
            base = symbolic_observation(state)
            base[MOUSE] = 0.0
            bases[id(state)] = (state, base)
        obs = base.copy()
        obs[MOUSE][mouse] = 1.0
        return torch.from_numpy(obs)

    def first_move_toward(self, state: MazeState, goal: str) -> int | None:
        """The first move of a shortest path from the mouse to ``goal``."""
        return first_move_toward(state, goal)

    def has_landmark(self, state: MazeState, goal: str) -> bool:
        """Every level has a cheese and a corner; only some have a sign."""
        return landmark_cell(state, goal) is not None

    def state_from_env(self, env: gym.Env, obs: np.ndarray) -> MazeState:
        """The env's current level (restorable), whatever observation it emitted."""
        return env.unwrapped.get_state()  # type: ignore[attr-defined, no-any-return]

    def state_row(self, state: MazeState) -> dict[str, np.ndarray]:
        return {
            "walls": state.walls,
            "maze_size": np.int64(state.maze_size),  # type: ignore[dict-item]
            "mouse": np.asarray(state.mouse, dtype=np.int64),
            "cheese": np.asarray(state.cheese, dtype=np.int64),
            "sign": np.asarray(state.sign if state.sign is not None else (-1, -1), dtype=np.int64),
        }

    def states_from_arrays(self, arrays: Mapping[str, np.ndarray]) -> list[MazeState]:
        """The levels of a maze dataset's rows (a sign of (-1, -1) means none)."""
        a = arrays
        return [
            MazeState(
                walls=a["walls"][i],
                maze_size=int(a["maze_size"][i]),
                mouse=tuple(a["mouse"][i]),
                cheese=tuple(a["cheese"][i]),
                sign=None if a["sign"][i][0] < 0 else tuple(a["sign"][i]),
            )
            for i in range(len(a["walls"]))
        ]

    def read_raw(self, x: torch.Tensor | np.ndarray) -> MazeState | None:
        """The level read off cell by cell with no projection, or None if it is not a level.

        Each cell takes its strongest terrain channel (wall / free / out of maze); mouse, cheese
        and sign sit at their channels' maxima. This is how a generator is judged honestly: the
        fraction of samples whose raw reading is already on-distribution, before ``decode``
        repairs anything.
        """
        a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
        terrain = np.stack([a[WALL], a[FREE], a[OUT]]).argmax(axis=0)
        size = self._decode_size(a[OUT])
        probe = MazeState(
            walls=np.ones((self.world_size,) * 2, bool), maze_size=size, mouse=(0, 0), cheese=(0, 0)
        )
        if not np.array_equal(terrain == 2, ~probe.maze_mask()):
            return None
        walls = terrain != 1
        mouse = np.unravel_index(int(np.argmax(a[MOUSE])), walls.shape)
        cheese = np.unravel_index(int(np.argmax(a[CHEESE])), walls.shape)
        sign = None
        if self.sign_mode != "none":
            sign = tuple(int(v) for v in np.unravel_index(int(np.argmax(a[SIGN])), walls.shape))
        return MazeState(walls=walls, maze_size=size, mouse=mouse, cheese=cheese, sign=sign)

    def _decode_size(self, out_channel: np.ndarray) -> int:
        best, best_score = self.sizes[0], -np.inf
        for size in self.sizes:
            probe = MazeState(
                walls=np.ones((self.world_size,) * 2, bool),
                maze_size=size,
                mouse=(0, 0),
                cheese=(0, 0),
            )
            outside = ~probe.maze_mask()
            centred = out_channel - 0.5  # agreement: high outside the maze, low inside it
            score = float(centred[outside].sum() - centred[~outside].sum())
            if score > best_score:
                best, best_score = size, score
        return best

    def _decode_walls(self, a: np.ndarray, size: int) -> np.ndarray:
        free_score = np.nan_to_num(a[FREE] - a[WALL], nan=np.inf)
        edges = passages(size, self.world_size)
        scores = np.array([free_score[passage] for _, _, passage in edges])
        # Most-open-looking passages first; stable, so ties keep lattice order and decoding
        # an exact one-hot level gives back exactly its tree.
        return spanning_tree_walls(size, self.world_size, np.argsort(-scores, kind="stable"))

    # -- legality, edits, pictures ---------------------------------------------------------------
    def is_on_distribution(self, state: MazeState) -> bool:
        """Whether this configuration's generator could have produced ``state``."""
        return fits_variant(state, self.sizes, self.cheese_region, self.sign_mode)

    def is_playable(self, state: MazeState) -> bool:
        """The cheese is reachable from the mouse."""
        return bool(bfs_distances(state.walls, state.mouse)[state.cheese] >= 0)

    def edits(self, state: MazeState, *, mouse: bool = False) -> Iterator[Edit]:
        """Every legal atomic edit: move the cheese, toggle an inner wall, move the sign
        (and move the mouse when ``mouse`` is True)."""
        free = [c for c in state.free_cells() if state.in_maze(c)]
        for cell in free:
            if cell not in (state.mouse, state.cheese):
                yield Edit("move_cheese", cell)
        top, left = state.origin
        occupied = {state.mouse, state.cheese, state.sign}
        for r in range(top, top + state.maze_size):
            for c in range(left, left + state.maze_size):
                if (r, c) not in occupied:
                    yield Edit("toggle_wall", (r, c))
        # A sign that marks the cheese moves with it; an independent one that only happens to
        # share its square moves on its own.
        if state.sign is not None and (
            state.sign != state.cheese or self.sign_mode == "independent"
        ):
            for cell in free:
                if cell != state.sign:
                    yield Edit("move_sign", cell)
        if mouse:
            for cell in free:
                if cell not in (state.mouse, state.cheese):
                    yield Edit("move_mouse", cell)

    def render(self, state: MazeState, cell_px: int = 24) -> np.ndarray:
        """uint8 [W*cell_px, W*cell_px, 3] picture for people."""
        return render_picture(state, cell_px)


def _downhill_move(dist: np.ndarray, cell: Cell) -> int:
    """The action that steps from ``cell`` to a neighbour one move nearer (``dist`` from BFS)."""
    n = dist.shape[0]
    for action, (dr, dc) in enumerate(MOVES):
        r, c = cell[0] + dr, cell[1] + dc
        if 0 <= r < n and 0 <= c < n and 0 <= dist[r, c] == dist[cell] - 1:
            return action
    raise InvalidArgumentError(f"No move from {cell} leads nearer the target; is it reachable?")


def _pixel_cells(world_size: int) -> np.ndarray:
    """The cell row (or column) of each of the RGB observation's 64 pixel rows (or columns)."""
    return (np.arange(RGB_OBS_SIZE) * world_size) // RGB_OBS_SIZE  # as rgb_observation draws


def _argmax_cell(channel: np.ndarray, mask: np.ndarray) -> Cell:
    scores = np.where(mask, channel, -np.inf)
    r, c = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return (int(r), int(c))
