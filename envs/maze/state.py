"""The maze level as plain data, the edits a person or a search may make, and its checks.

A :class:`MazeState` is everything needed to restore a level exactly: the wall layout of the whole
world, the maze's size inside it and where the mouse, the cheese and the (optional) sign are. It is
a frozen dataclass of numpy arrays and tuples, so it pickles, hashes and compares by value, and
``to_dict``/``from_dict`` give a JSON form with walls as nested 0/1 lists.

Geometry follows procgen's Maze: an odd ``maze_size`` square centred in a square world of side
``world_size``; everything outside the maze counts as wall. Inside the maze, cells at even
(row, col) offsets from the maze's top-left are rooms (always free), cells at odd/odd offsets are
pillars (always wall), and the others are passages opened by Kruskal's algorithm. The mouse starts
bottom-left of the maze; the "corner" proxy is the top-right cell.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rl_workbench.errors import InvalidArgumentError, InvalidEditError
from rl_workbench.types import Cell

ARRAY_FIELDS: dict[str, str] = {
    "walls": "maze walls [N, W, W] (bool): with the four fields below, a MazeState",
    "maze_size": "maze side [N] (int64)",
    "mouse": "mouse (row, col) [N, 2] (int64)",
    "cheese": "cheese (row, col) [N, 2] (int64)",
    "sign": "sign (row, col) [N, 2] (int64); (-1, -1) when the level has no sign",
}
"""A batch of levels as arrays (datasets keep one row per state in this form)."""

MOVES: tuple[Cell, ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""Row/col offsets of the four move actions, in action order: up, down, left, right."""


@dataclass(frozen=True, eq=False)
class MazeState:
    """A restorable maze level.

    Attributes:
        walls: bool array [world_size, world_size]; True is wall. Cells outside the maze are walls.
        maze_size: side of the maze (odd, 3..world_size), centred in the world.
        mouse: the mouse's (row, col).
        cheese: the cheese's (row, col).
        sign: the green sign's (row, col), or None when the level has no sign.
    """

    walls: np.ndarray
    maze_size: int
    mouse: Cell
    cheese: Cell
    sign: Cell | None = None
    _key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        walls = np.array(self.walls, dtype=bool, copy=True)
        if walls.ndim != 2 or walls.shape[0] != walls.shape[1]:
            raise InvalidArgumentError(
                f"walls must be a square 2-D array, got shape {walls.shape}."
            )
        world = walls.shape[0]
        size = int(self.maze_size)
        if size < 3 or size % 2 == 0 or size > world:
            raise InvalidArgumentError(
                f"maze_size must be odd and in 3..{world} (the world size), got {self.maze_size}."
            )
        walls.setflags(write=False)
        object.__setattr__(self, "walls", walls)
        object.__setattr__(self, "maze_size", size)
        for name in ("mouse", "cheese", "sign"):
            value = getattr(self, name)
            if value is None and name == "sign":
                continue
            cell = _as_cell(value, name)
            if not (0 <= cell[0] < world and 0 <= cell[1] < world):
                raise InvalidArgumentError(f"{name} {cell} is outside the {world}x{world} world.")
            object.__setattr__(self, name, cell)
        key = walls.tobytes() + repr((size, self.mouse, self.cheese, self.sign)).encode()
        object.__setattr__(self, "_key", key)

    # -- identity -------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, MazeState) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "walls": self.walls,
            "maze_size": self.maze_size,
            "mouse": self.mouse,
            "cheese": self.cheese,
            "sign": self.sign,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        MazeState.__init__(self, **state)  # type: ignore[misc]

    # -- geometry -------------------------------------------------------------------------------
    @property
    def world_size(self) -> int:
        """Side of the square world the maze is padded into."""
        return int(self.walls.shape[0])

    @property
    def origin(self) -> Cell:
        """(row, col) of the maze's top-left cell in the world."""
        margin = (self.world_size - self.maze_size) // 2
        return (margin, margin)

    @property
    def start(self) -> Cell:
        """Where the generator puts the mouse: the maze's bottom-left cell."""
        top, left = self.origin
        return (top + self.maze_size - 1, left)

    @property
    def corner(self) -> Cell:
        """The top-right cell of the maze: the proxy goal of corner-trained agents."""
        top, left = self.origin
        return (top, left + self.maze_size - 1)

    def in_maze(self, cell: Cell) -> bool:
        """Whether a cell lies inside the maze (not in the padding around it)."""
        top, left = self.origin
        return top <= cell[0] < top + self.maze_size and left <= cell[1] < left + self.maze_size

    def maze_mask(self) -> np.ndarray:
        """bool [world, world]: True inside the maze."""
        mask = np.zeros_like(self.walls)
        top, left = self.origin
        mask[top : top + self.maze_size, left : left + self.maze_size] = True
        return mask

    def is_free(self, cell: Cell) -> bool:
        """Whether the mouse could stand on a cell."""
        r, c = cell
        n = self.world_size
        return 0 <= r < n and 0 <= c < n and not self.walls[r, c]

    def free_cells(self) -> list[Cell]:
        """All free cells, in row-major order."""
        return [(int(r), int(c)) for r, c in zip(*np.nonzero(~self.walls), strict=True)]

    def region(self, k: int) -> list[Cell]:
        """Free cells of the top-right k x k block of the maze (k <= 1: the corner alone)."""
        top, left = self.origin
        k = max(1, min(int(k), self.maze_size))
        right = left + self.maze_size - 1
        return [
            (r, c)
            for r in range(top, top + k)
            for c in range(right - k + 1, right + 1)
            if not self.walls[r, c]
        ]

    # -- edits: each returns a new state and refuses illegal ones -------------------------------
    def replace(self, **changes: Any) -> MazeState:
        """A copy with some fields changed (no legality check beyond the constructor's)."""
        fields = self.__getstate__()
        fields.update(changes)
        return MazeState(**fields)

    def move_cheese(self, cell: Cell) -> MazeState:
        """Put the cheese on another free cell of the maze (not under the mouse)."""
        cell = self._check_free_target("cheese", cell)
        if cell == self.mouse:
            raise InvalidEditError(f"Cannot put the cheese on the mouse at {cell}.")
        sign = cell if self.sign is not None and self.sign == self.cheese else self.sign
        return self.replace(cheese=cell, sign=sign)

    def move_mouse(self, cell: Cell) -> MazeState:
        """Put the mouse on another free cell of the maze (not on the cheese)."""
        cell = self._check_free_target("mouse", cell)
        if cell == self.cheese:
            raise InvalidEditError(f"Cannot put the mouse on the cheese at {cell}.")
        return self.replace(mouse=cell)

    def move_sign(self, cell: Cell | None) -> MazeState:
        """Put the sign on a free cell of the maze, or remove it with None."""
        if cell is None:
            return self.replace(sign=None)
        cell = self._check_free_target("sign", cell)
        return self.replace(sign=cell)

    def toggle_wall(self, cell: Cell) -> MazeState:
        """Add a wall on a free cell or open a wall cell, inside the maze only."""
        cell = _as_cell(cell, "cell")
        if not self.in_maze(cell):
            raise InvalidEditError(
                f"Cell {cell} is outside the maze (rows/cols {self.origin[0]}.."
                f"{self.origin[0] + self.maze_size - 1}); walls can only change inside it."
            )
        occupied = {"mouse": self.mouse, "cheese": self.cheese, "sign": self.sign}
        for name, pos in occupied.items():
            if pos == cell:
                raise InvalidEditError(f"Cannot put a wall on the {name} at {cell}; move it first.")
        walls = self.walls.copy()
        walls[cell] = not walls[cell]
        return self.replace(walls=walls)

    def _check_free_target(self, what: str, cell: Cell) -> Cell:
        cell = _as_cell(cell, what)
        if not self.in_maze(cell):
            raise InvalidEditError(f"Cannot put the {what} at {cell}: it is outside the maze.")
        if self.walls[cell]:
            raise InvalidEditError(f"Cannot put the {what} at {cell}: that cell is a wall.")
        return cell

    # -- serialisation --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; walls as nested lists of 0/1, cells as [row, col]."""
        return {
            "walls": self.walls.astype(int).tolist(),
            "maze_size": self.maze_size,
            "mouse": list(self.mouse),
            "cheese": list(self.cheese),
            "sign": None if self.sign is None else list(self.sign),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MazeState:
        """Inverse of :meth:`to_dict`; raises InvalidArgumentError on missing keys."""
        missing = {"walls", "maze_size", "mouse", "cheese"} - set(data)
        if missing:
            raise InvalidArgumentError(
                "A maze state needs the keys walls, maze_size, mouse, cheese; "
                f"missing {sorted(missing)}."
            )
        sign = data.get("sign")
        return cls(
            walls=np.asarray(data["walls"], dtype=bool),
            maze_size=int(data["maze_size"]),
            mouse=_as_cell(data["mouse"], "mouse"),
            cheese=_as_cell(data["cheese"], "cheese"),
            sign=None if sign is None else _as_cell(sign, "sign"),
        )


def _as_cell(value: Any, name: str) -> Cell:
    try:
        r, c = (int(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be a (row, col) pair, got {value!r}.") from None
    return (r, c)


# -- graph helpers --------------------------------------------------------------------------------
def neighbours(walls: np.ndarray, cell: Cell) -> Iterator[Cell]:
    """Free cells one move away from ``cell``."""
    n = walls.shape[0]
    for dr, dc in MOVES:
        r, c = cell[0] + dr, cell[1] + dc
        if 0 <= r < n and 0 <= c < n and not walls[r, c]:
            yield (r, c)


def bfs_distances(walls: np.ndarray, source: Cell) -> np.ndarray:
    """int [H, W]: moves from ``source`` to each cell; -1 where unreachable or wall."""
    dist = np.full(walls.shape, -1, dtype=np.int32)
    if walls[source]:
        return dist
    dist[source] = 0
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for nxt in neighbours(walls, cell):
            if dist[nxt] < 0:
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    return dist


def shortest_path(walls: np.ndarray, source: Cell, target: Cell) -> list[Cell] | None:
    """Cells from source to target inclusive along a shortest path, or None if unreachable."""
    dist = bfs_distances(walls, target)
    if dist[source] < 0:
        return None
    path = [source]
    while path[-1] != target:
        cell = path[-1]
        path.append(next(n for n in neighbours(walls, cell) if dist[n] == dist[cell] - 1))
    return path


def is_perfect_maze(state: MazeState) -> bool:
    """True when the free cells of the maze form a tree laid on procgen's room lattice.

    A perfect maze has every free cell connected and exactly one path between any two, which for
    a grid graph means: connected, and #edges == #cells - 1. We also require the lattice Kruskal
    produces (rooms free, pillars wall, nothing free outside the maze), so that "perfect" means
    "the generator could have drawn this wall layout".
    """
    walls = state.walls
    mask = state.maze_mask()
    if not walls[~mask].all():
        return False
    top, left = state.origin
    inner = walls[top : top + state.maze_size, left : left + state.maze_size]
    if inner[0::2, 0::2].any() or not inner[1::2, 1::2].all():
        return False
    free = ~inner
    n_cells = int(free.sum())
    n_edges = int((free[:, 1:] & free[:, :-1]).sum() + (free[1:, :] & free[:-1, :]).sum())
    if n_edges != n_cells - 1:
        return False
    reach = bfs_distances(walls, (top, left))
    return int((reach >= 0).sum()) == n_cells


def is_on_distribution(state: MazeState, cheese_region: int | None = None) -> bool:
    """Whether the maze generator (with this cheese region) could have produced this level.

    That is: a perfect maze, the mouse and the cheese on distinct free cells (the mouse anywhere
    an episode could have taken it), the cheese inside the top-right ``cheese_region`` block when
    one is given, and the sign (if any) on a free cell.
    """
    if not is_perfect_maze(state):
        return False
    if state.mouse == state.cheese:
        return False
    for cell in (state.mouse, state.cheese, state.sign):
        if cell is not None and (not state.in_maze(cell) or state.walls[cell]):
            return False
    return not (cheese_region is not None and state.cheese not in state.region(cheese_region))


def fits_variant(
    state: MazeState,
    sizes: tuple[int, ...],
    cheese_region: int | None,
    sign_mode: str,
) -> bool:
    """Whether a level generator with these settings could have produced ``state``.

    :func:`is_on_distribution` plus the settings' own rules: a maze size the generator draws,
    and the sign absent, on the cheese, or elsewhere as ``sign_mode`` ("none", "on_cheese",
    "away", "independent") says.
    """
    if state.maze_size not in sizes or not is_on_distribution(state, cheese_region):
        return False
    if sign_mode == "none":
        return state.sign is None
    if sign_mode == "on_cheese":
        return state.sign == state.cheese
    if sign_mode == "independent":
        return state.sign is not None and state.sign != state.mouse
    return state.sign is not None and state.sign != state.cheese
