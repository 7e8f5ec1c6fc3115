"""The maze generator's spanning-tree lattice: exact round trips, a literal reading that repairs
nothing, and the differentiable drawing the agent's gradient flows through."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rl_workbench.domains.maze import MazeDomain
from rl_workbench.envs.maze import is_perfect_maze, symbolic_observation
from rl_workbench.envs.maze.generation import generate_level
from rl_workbench.generative import maze_lattice as ml


def _levels(world: int, n: int, sign: str = "none") -> list:
    rng = np.random.default_rng(world)
    sizes = tuple(range(3, world + 1, 2))
    return [
        generate_level(rng, sizes=sizes, world_size=world, cheese_region=None, sign=sign)  # type: ignore[arg-type]
        for _ in range(n)
    ]


@pytest.mark.parametrize(("world", "sign"), [(7, "none"), (15, "away"), (25, "on_cheese")])
def test_encoding_reads_back_and_draws_the_exact_level(world: int, sign: str) -> None:
    sizes = tuple(range(3, world + 1, 2))
    for level in _levels(world, 40, sign):
        x = ml.encode(level)
        assert x.shape == (ml.CHANNELS, ml.lattice_side(world), ml.lattice_side(world))
        assert ml.read_raw(x, world, sizes, signs=sign != "none") == level
        drawn = ml.level_tensor(torch.from_numpy(x)[None], level)[0].numpy()
        np.testing.assert_allclose(drawn, symbolic_observation(level))


def test_two_rooms_naming_each_other_are_read_as_they_are() -> None:
    level = next(lv for lv in _levels(7, 50) if lv.maze_size == 7)
    x = ml.encode(level)
    # Two rooms above the start row name each other: a 2-cycle the reading must keep (no
    # repair), so the reading is no perfect maze, and decode_like says it had to repair.
    r = ml.rooms(7)
    x[ml.PARENT, r - 2, 1] = -1
    x[ml.PARENT.start + 1, r - 2, 1] = 1  # (r-2, 1) -> down -> (r-1, 1)
    x[ml.PARENT, r - 1, 1] = -1
    x[ml.PARENT.start + 0, r - 1, 1] = 1  # (r-1, 1) -> up -> (r-2, 1)
    read = ml.read_raw(x, 7, (3, 5, 7), signs=False)
    assert read is not None and not is_perfect_maze(read)
    decoded, raw_tree = ml.decode_like(torch.from_numpy(x), level, MazeDomain(7, (3, 5, 7)))
    assert not raw_tree and is_perfect_maze(decoded)


def test_parents_never_leave_the_maze_and_the_start_room_is_the_root() -> None:
    a = np.random.default_rng(0).normal(size=(ml.CHANNELS, 4, 4))
    parent = ml.read_parents(a, 7)
    r = ml.rooms(7)
    assert parent[r - 1, 0] == 4 and (parent == 4).sum() == 1
    for (i, j), k in np.ndenumerate(parent):
        if k < 4:
            di, dj = ml.PARENT_STEPS[k]
            assert 0 <= i + di < r and 0 <= j + dj < r


def test_a_sample_with_no_maze_size_reads_as_nothing() -> None:
    x = ml.encode(_levels(7, 1)[0])
    x[ml.IN_MAZE, 0, 0] = -x[ml.IN_MAZE, 0, 0]  # a hole in the room block
    x[ml.IN_MAZE, 3, 3] = 1.0
    assert ml.read_raw(x, 7, (3, 5, 7), signs=False) is None


def test_the_agents_gradient_reaches_the_parent_links() -> None:
    level = next(lv for lv in _levels(7, 50) if lv.maze_size == 7)
    x = torch.from_numpy(ml.encode(level))[None].requires_grad_(True)
    drawn = ml.level_tensor(x, level)
    drawn[:, 1].sum().backward()  # "more open floor" pulls on the links
    assert x.grad is not None and x.grad[0, ml.PARENT].abs().sum() > 0


def test_snapping_keeps_encoded_levels_and_rounds_each_room_to_one_parent() -> None:
    levels = _levels(15, 6)
    x = ml.to_model_space(levels, 8)
    block = x[:, ml.IN_MAZE : ml.IN_MAZE + 1]
    assert torch.allclose(ml.snap_tree_codes(x, block), x, atol=1e-6)  # codes are fixed points
    noisy = x + 0.6 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    snapped = ml.snap_tree_codes(noisy, block)
    inside = block[:, 0] > 0
    parents = snapped[:, ml.PARENT]
    assert bool(((parents > 0).sum(1)[inside] == 1).all())  # exactly one parent per room
    assert bool((parents.permute(0, 2, 3, 1)[~inside] == -1).all())  # no parent outside
    radius = snapped[:, ml.DEPTH].norm(dim=1)[inside]
    assert torch.allclose(radius, torch.ones_like(radius), atol=1e-5)
    # objects are left as estimated: the snapping knows one room's code book, nothing more
    assert torch.equal(snapped[:, ml.CHEESE.start :], noisy[:, ml.CHEESE.start :])
