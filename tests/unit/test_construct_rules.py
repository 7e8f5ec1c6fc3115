"""The construct screen's rules: procgen's lattice roles, and a status that agrees with the
perfect-maze check on every single and double passage change."""

from __future__ import annotations

import numpy as np

from rl_workbench.envs.maze import is_perfect_maze
from rl_workbench.envs.maze.generation import generate_level
from rl_workbench.quiz.construct_rules import (
    cell_role,
    change_in_words,
    editable_walls,
    maze_problems,
    wall_edit_refusal,
)


def _levels(n: int = 12, world: int = 15) -> list:
    rng = np.random.default_rng(0)
    sizes = tuple(range(3, world + 1, 2))
    return [
        generate_level(rng, sizes=sizes, world_size=world, cheese_region=None, sign="none")
        for _ in range(n)
    ]


def test_roles_follow_the_lattice_and_only_passages_may_change() -> None:
    level = _levels(1, 7)[0]
    top, left = level.origin
    assert cell_role(level, (top, left)) == "room"
    if level.maze_size > 1:
        assert cell_role(level, (top + 1, left + 1)) == "pillar"
        assert cell_role(level, (top, left + 1)) == "passage"
        assert "pillar" in (wall_edit_refusal(level, (top + 1, left + 1)) or "")
    assert "room" in (wall_edit_refusal(level, (top, left)) or "") or (top, left) in {
        level.mouse,
        level.cheese,
    }
    assert all(cell_role(level, c) == "passage" for c in editable_walls(level))
    if top > 0:
        assert "outside" in (wall_edit_refusal(level, (0, 0)) or "")


def test_the_status_agrees_with_the_perfect_maze_check_on_every_change() -> None:
    rng = np.random.default_rng(1)
    for level in _levels():
        assert maze_problems(level) == [] and is_perfect_maze(level)
        cells = sorted(editable_walls(level))
        for cell in cells:
            once = level.toggle_wall(cell)
            problems = maze_problems(once)
            assert problems and not is_perfect_maze(once)
            kind = "loop" if level.walls[cell] else "cut off"
            assert any(kind in p for p in problems)
        for _ in range(20):  # two changes: sometimes a perfect maze again, sometimes not
            a, b = rng.choice(len(cells), 2, replace=False)
            twice = level.toggle_wall(cells[a]).toggle_wall(cells[b])
            assert (maze_problems(twice) == []) == is_perfect_maze(twice)


def test_a_change_is_said_in_full() -> None:
    level = _levels(1, 7)[0]
    free = [
        c for c in level.free_cells() if level.in_maze(c) and c not in (level.mouse, level.cheese)
    ]
    moved = level.move_cheese(free[0])
    cells = sorted(editable_walls(level))
    closed = next(c for c in cells if not level.walls[c])
    opened = next(c for c in cells if level.walls[c])
    both = moved.toggle_wall(closed).toggle_wall(opened)
    dr, dc = free[0][0] - level.cheese[0], free[0][1] - level.cheese[1]
    words = change_in_words(level, both)
    assert words.startswith("cheese moved ") and "1 wall removed · 1 wall added" in words
    assert (f"{abs(dr)} {'down' if dr > 0 else 'up'}" in words) == (dr != 0)
    assert (f"{abs(dc)} {'right' if dc > 0 else 'left'}" in words) == (dc != 0)
    assert change_in_words(level, level) == "no change"
