"""Level generation: procgen's randomized-Kruskal perfect maze, cheese and sign placement.

All randomness comes from the ``numpy.random.Generator`` passed in, so a seeded env reproduces
its levels exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rl_workbench.types import Cell, SignMode

from .state import MazeState, bfs_distances


def passages(maze_size: int, world_size: int) -> list[tuple[Cell, Cell, Cell]]:
    """Every (room, room, passage cell) pair of adjacent rooms, in a fixed lattice order."""
    margin = (world_size - maze_size) // 2
    rooms = (maze_size + 1) // 2

    def room(i: int, j: int) -> Cell:
        return (margin + 2 * i, margin + 2 * j)

    out = [
        (room(i, j), room(i, j + 1), (margin + 2 * i, margin + 2 * j + 1))
        for i in range(rooms)
        for j in range(rooms - 1)
    ]
    out += [
        (room(i, j), room(i + 1, j), (margin + 2 * i + 1, margin + 2 * j))
        for i in range(rooms - 1)
        for j in range(rooms)
    ]
    return out


class DisjointSets:
    """Union-find over cells (path halving): which rooms the open passages join."""

    def __init__(self) -> None:
        self.parent: dict[Cell, Cell] = {}

    def find(self, c: Cell) -> Cell:
        self.parent.setdefault(c, c)
        while self.parent[c] != c:
            self.parent[c] = self.parent[self.parent[c]]
            c = self.parent[c]
        return c

    def union(self, a: Cell, b: Cell) -> bool:
        """Join the sets of ``a`` and ``b``; False when they were one already."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[ra] = rb
        return True


def spanning_tree_walls(maze_size: int, world_size: int, order: Sequence[int]) -> np.ndarray:
    """bool [world, world]: rooms free, and passages opened in ``order`` (indices into
    :func:`passages`) whenever they join two components: Kruskal's algorithm, so the result is
    always a perfect maze. A random order gives procgen's generator; an order by score gives the
    maximum spanning tree the maze domain decodes to."""
    walls = np.ones((world_size, world_size), dtype=bool)
    edges = passages(maze_size, world_size)
    sets = DisjointSets()
    for a, b, _ in edges:
        walls[a] = walls[b] = False
    for k in order:
        a, b, passage = edges[int(k)]
        if sets.union(a, b):
            walls[passage] = False
    return walls


def kruskal_walls(maze_size: int, world_size: int, rng: np.random.Generator) -> np.ndarray:
    """bool [world, world]: a perfect maze of side ``maze_size`` centred in walls, by randomized
    Kruskal (every passage between two rooms considered once, in random order)."""
    n_edges = len(passages(maze_size, world_size))
    return spanning_tree_walls(maze_size, world_size, rng.permutation(n_edges).tolist())


def generate_level(
    rng: np.random.Generator,
    *,
    sizes: tuple[int, ...],
    world_size: int,
    cheese_region: int | None,
    sign: SignMode,
) -> MazeState:
    """Draw one level: maze size, walls, cheese (in the region if given) and sign."""
    maze_size = int(rng.choice(sizes))
    walls = kruskal_walls(maze_size, world_size, rng)
    base = MazeState(walls=walls, maze_size=maze_size, mouse=(0, 0), cheese=(0, 0))
    mouse = base.start
    if cheese_region is None:
        candidates = [c for c in base.free_cells() if c != mouse]
    else:
        candidates = [c for c in base.region(cheese_region) if c != mouse]
    cheese = candidates[int(rng.integers(len(candidates)))]
    sign_cell: Cell | None = None
    if sign == "on_cheese":
        sign_cell = cheese
    elif sign == "away":
        sign_cell = _place_sign_away(base, mouse, cheese, rng)
    elif sign == "independent":
        free = [c for c in base.free_cells() if c != mouse]
        sign_cell = free[int(rng.integers(len(free)))]
    return MazeState(walls=walls, maze_size=maze_size, mouse=mouse, cheese=cheese, sign=sign_cell)


def _place_sign_away(base: MazeState, mouse: Cell, cheese: Cell, rng: np.random.Generator) -> Cell:
    """A free cell at least 2 moves from the cheese (any other free cell in tiny mazes)."""
    dist = bfs_distances(base.walls, cheese)
    others = [c for c in base.free_cells() if c not in (mouse, cheese)]
    far = [c for c in others if dist[c] >= 2]
    pool = far or others
    return pool[int(rng.integers(len(pool)))]
