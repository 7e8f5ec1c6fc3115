"""Every generated maze is a perfect maze laid out like procgen's."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rl_workbench.envs.maze import (
    MazeState,
    bfs_distances,
    fits_variant,
    generate_level,
    is_on_distribution,
    is_perfect_maze,
    kruskal_walls,
    shortest_path,
)

odd_sizes = st.sampled_from(list(range(3, 26, 2)))


def _free_graph(walls: np.ndarray) -> tuple[int, int]:
    free = ~walls
    cells = int(free.sum())
    edges = int((free[:, 1:] & free[:, :-1]).sum() + (free[1:, :] & free[:-1, :]).sum())
    return cells, edges


@settings(max_examples=60, deadline=None)
@given(size=odd_sizes, seed=st.integers(0, 2**31 - 1))
def test_kruskal_mazes_are_perfect(size: int, seed: int) -> None:
    world = 25
    walls = kruskal_walls(size, world, np.random.default_rng(seed))
    state = MazeState(walls=walls, maze_size=size, mouse=(0, 0), cheese=(0, 0))
    top, left = state.origin
    # All free cells connected ...
    dist = bfs_distances(walls, (top, left))
    cells, edges = _free_graph(walls)
    assert (dist >= 0).sum() == cells
    # ... and exactly one path between any two: a connected graph with cells - 1 edges is a tree.
    assert edges == cells - 1
    # Nothing free outside the maze; every room free.
    assert not (~walls & ~state.maze_mask()).any()
    assert is_perfect_maze(state)


def test_adding_a_loop_or_a_wall_breaks_perfection() -> None:
    walls = kruskal_walls(7, 7, np.random.default_rng(3))
    state = MazeState(walls=walls, maze_size=7, mouse=(6, 0), cheese=(0, 6))
    closed_passages = [
        (r, c) for r in range(7) for c in range(7) if walls[r, c] and (r + c) % 2 == 1
    ]
    with_loop = state.toggle_wall(closed_passages[0])
    assert not is_perfect_maze(with_loop)  # opening a closed passage makes a cycle
    open_passages = [
        (r, c) for r in range(7) for c in range(7) if not walls[r, c] and (r + c) % 2 == 1
    ]
    cut = state.toggle_wall(open_passages[0])
    assert not is_perfect_maze(cut)  # closing an open passage disconnects the tree


def test_shortest_path_is_consistent_with_bfs() -> None:
    walls = kruskal_walls(9, 9, np.random.default_rng(0))
    path = shortest_path(walls, (8, 0), (0, 8))
    assert path is not None and path[0] == (8, 0) and path[-1] == (0, 8)
    assert len(path) - 1 == bfs_distances(walls, (8, 0))[0, 8]
    for a, b in itertools.pairwise(path):
        assert abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 and not walls[b]


@pytest.mark.parametrize("region", [0, 1, 3, 5])
def test_cheese_region_places_cheese_in_top_right_block(region: int) -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        state = generate_level(
            rng, sizes=(5, 7, 9), world_size=9, cheese_region=region, sign="none"
        )
        top, left = state.origin
        right = left + state.maze_size - 1
        k = max(region, 1)
        assert top <= state.cheese[0] < top + k
        assert right - k < state.cheese[1] <= right
        if region <= 1:
            assert state.cheese == state.corner
        assert is_on_distribution(state, cheese_region=region)


def test_uniform_cheese_covers_the_maze() -> None:
    rng = np.random.default_rng(2)
    seen = {
        generate_level(rng, sizes=(5,), world_size=5, cheese_region=None, sign="none").cheese
        for _ in range(400)
    }
    # 5x5 maze: 9 rooms + 8 open passages = 17 free cells, minus the mouse's start.
    assert len(seen) >= 14


def test_sign_modes() -> None:
    rng = np.random.default_rng(4)
    for _ in range(30):
        on = generate_level(rng, sizes=(7,), world_size=7, cheese_region=None, sign="on_cheese")
        assert on.sign == on.cheese
        away = generate_level(rng, sizes=(7,), world_size=7, cheese_region=None, sign="away")
        assert away.sign not in (away.cheese, away.mouse)
        assert bfs_distances(away.walls, away.cheese)[away.sign] >= 2
        none = generate_level(rng, sizes=(7,), world_size=7, cheese_region=None, sign="none")
        assert none.sign is None


def test_independent_sign_ignores_the_cheese() -> None:
    """The sign suite's honest control: a sign on any free square but the mouse's, the cheese's
    as likely as any other (about 1 in the free squares' count), never depending on it."""
    rng = np.random.default_rng(3)
    on_cheese = 0
    levels = [
        generate_level(rng, sizes=(7,), world_size=7, cheese_region=None, sign="independent")
        for _ in range(400)
    ]
    for level in levels:
        assert level.sign is not None and level.sign != level.mouse
        assert fits_variant(level, (7,), None, "independent")
        on_cheese += level.sign == level.cheese
    free = np.mean([len(level.free_cells()) - 1 for level in levels])
    assert 0.25 / free < on_cheese / len(levels) < 3 / free
    assert not fits_variant(levels[0].move_sign(None), (7,), None, "independent")


def test_independent_sign_decodes_and_moves_on_its_own() -> None:
    """A sign that only happens to share the cheese's square is decoded where it is and can be
    moved by itself (a sign that marks the cheese moves with it)."""
    from rl_workbench.domains.maze import MazeDomain

    rng = np.random.default_rng(5)
    domain = MazeDomain(7, (7,), None, "independent")
    marking = MazeDomain(7, (7,), None, "on_cheese")
    level = generate_level(rng, sizes=(7,), world_size=7, cheese_region=None, sign="independent")
    on_cheese = level.move_sign(level.cheese)
    assert domain.decode_level_like(domain.encode(level), level) == level
    assert any(e.kind == "move_sign" for e in domain.edits(on_cheese))
    assert not any(e.kind == "move_sign" for e in marking.edits(on_cheese))
