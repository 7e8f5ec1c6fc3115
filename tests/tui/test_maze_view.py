"""The maze widget draws every cell of a 15x15 world inside an 80x24 terminal."""

from __future__ import annotations

import numpy as np

from rl_workbench.envs.maze import MazeEnv
from rl_workbench.quiz.widgets.maze_view import MazeView


def _level(world: int):
    env = MazeEnv(min_size=world, max_size=world)
    env.reset(seed=3)
    return env.get_state()


def test_a_15x15_world_is_drawn_one_row_and_two_columns_per_cell() -> None:
    level = _level(15)
    view = MazeView(level)
    assert view.cell_size == (2, 1)
    lines = view.render().plain.split("\n")
    assert len(lines) == 15 and all(len(line) == 30 for line in lines)  # the bottom row kept
    for (r, c), glyph in ((level.mouse, "◉"), (level.cheese, "●")):
        assert lines[r][2 * c] == glyph
    walls = np.array([[line[2 * c] == "█" for c in range(15)] for line in lines])
    assert (walls == level.walls).all()  # one glyph per cell, exactly the level's walls


def test_a_7x7_world_keeps_the_large_cells_and_every_free_square() -> None:
    for seed in range(6):
        env = MazeEnv(min_size=7, max_size=7)
        env.reset(seed=seed)
        level = env.get_state()
        view = MazeView(level)
        assert view.cell_size == (4, 2)
        lines = view.render().plain.split("\n")
        # Both text lines of every row, the bottom row's free squares included (they are spaces).
        assert len(lines) == 14 and all(len(line) == 28 for line in lines)
        walls = np.array([[lines[2 * r + 1][4 * c] == "█" for c in range(7)] for r in range(7)])
        assert (walls == level.walls).all()


def test_a_larger_terminal_draws_a_larger_maze() -> None:
    from rl_workbench.envs.maze.generation import generate_level
    from rl_workbench.quiz.widgets.maze_view import MazeView

    level = generate_level(
        np.random.default_rng(0), sizes=(7,), world_size=7, cheese_region=None, sign="none"
    )
    view = MazeView(level)
    assert view.cell_size == (4, 2)  # before any fit: the 80x24 default
    view.fit(66, 36)  # a 140x45 terminal's panel
    assert view.cell_size == (8, 4)
    view.fit(36, 15)  # an 80x24 one's
    assert view.cell_size == (4, 2)
    view.fit(10, 5)  # smaller than any: the smallest cells
    assert view.cell_size == (2, 1)
