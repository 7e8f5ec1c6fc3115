"""Level generation: procgen's randomized-Kruskal perfect maze, cheese and sign placement.

All randomness comes from the ``numpy.random.Generator`` passed in, so a seeded env reproduces
its levels exactly.
"""

from __future__ import annotations

import numpy as np

from rl_workbench.types import Cell, SignMode

from .state import MazeState, bfs_distances


def kruskal_walls(maze_size: int, world_size: int, rng: np.random.Generator) -> np.ndarray:
    """bool [world, world]: a perfect maze of side ``maze_size`` centred in walls.

    Rooms sit at even offsets; every wall between two rooms is a candidate edge; edges are taken
    in random order and opened when they join two different components (randomized Kruskal).
    """
    walls = np.ones((world_size, world_size), dtype=bool)
    margin = (world_size - maze_size) // 2
    rooms_per_side = (maze_size + 1) // 2
    parent = list(range(rooms_per_side * rooms_per_side))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(rooms_per_side):
        for j in range(rooms_per_side):
            walls[margin + 2 * i, margin + 2 * j] = False
    edges = [(i, j, 0) for i in range(rooms_per_side) for j in range(rooms_per_side - 1)]
    edges += [(i, j, 1) for i in range(rooms_per_side - 1) for j in range(rooms_per_side)]
    for k in rng.permutation(len(edges)):
        i, j, vertical = edges[k]
        a = i * rooms_per_side + j
        b = a + rooms_per_side if vertical else a + 1
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            walls[margin + 2 * i + vertical, margin + 2 * j + (1 - vertical)] = False
    return walls


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
    return MazeState(walls=walls, maze_size=maze_size, mouse=mouse, cheese=cheese, sign=sign_cell)


def _place_sign_away(base: MazeState, mouse: Cell, cheese: Cell, rng: np.random.Generator) -> Cell:
    """A free cell at least 2 moves from the cheese (any other free cell in tiny mazes)."""
    dist = bfs_distances(base.walls, cheese)
    others = [c for c in base.free_cells() if c not in (mouse, cheese)]
    far = [c for c in others if dist[c] >= 2]
    pool = far or others
    return pool[int(rng.integers(len(pool)))]
