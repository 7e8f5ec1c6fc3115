"""The maze domain: encode/decode round trips exactly, decode always yields a legal level."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rl_workbench.domains.maze import CHEESE, FREE, MOUSE, WALL, Edit, MazeDomain
from rl_workbench.envs.maze import MazeEnv, is_perfect_maze
from rl_workbench.errors import InvalidArgumentError


@pytest.mark.parametrize(
    "kwargs", [{}, {"cheese_region": 1}, {"sign": "on_cheese"}, {"sign": "away"}]
)
def test_decode_inverts_encode(kwargs: dict) -> None:
    env = MazeEnv(**kwargs)
    domain = MazeDomain.from_env(env)
    for seed in range(40):
        env.reset(seed=seed)
        state = env.get_state()
        assert domain.decode(domain.encode(state)) == state
        assert domain.is_on_distribution(state)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), noise=st.floats(0.0, 3.0))
def test_decode_of_any_tensor_is_a_legal_level(seed: int, noise: float) -> None:
    env = MazeEnv(cheese_region=1)
    domain = MazeDomain.from_env(env)
    env.reset(seed=seed)
    x = domain.encode(env.get_state()) + noise * torch.randn(
        6, 7, 7, generator=torch.Generator().manual_seed(seed)
    )
    state = domain.decode(x)
    assert is_perfect_maze(state)
    assert state.mouse != state.cheese and not state.walls[state.mouse]
    assert domain.is_on_distribution(state)


def test_decode_keeps_the_most_confident_passages() -> None:
    env = MazeEnv(min_size=7, max_size=7)
    domain = MazeDomain.from_env(env)
    env.reset(seed=0)
    state = env.get_state()
    x = domain.encode(state).numpy().copy()
    # Open an extra passage weakly: the tree must stay the original one.
    closed = next(
        (r, c) for r in range(7) for c in range(7) if (r + c) % 2 == 1 and state.walls[r, c]
    )
    x[FREE][closed], x[WALL][closed] = 0.4, 0.6
    assert domain.decode(x) == state
    # Move the mouse and cheese channels: decode follows them.
    target = next(c for c in state.free_cells() if c not in (state.mouse, state.cheese))
    x[CHEESE][:] = 0
    x[CHEESE][target] = 1
    x[MOUSE][state.mouse] = 1
    assert domain.decode(x).cheese == target


def test_edits_are_legal_and_cover_the_kinds() -> None:
    env = MazeEnv(sign="away")
    domain = MazeDomain.from_env(env)
    env.reset(seed=3)
    state = env.get_state()
    edits = list(domain.edits(state))
    kinds = {e.kind for e in edits}
    assert kinds == {"move_cheese", "toggle_wall", "move_sign"}
    for edit in edits:
        edited = edit.apply(state)
        assert edited != state
    assert {e.kind for e in domain.edits(state, mouse=True)} >= {"move_mouse"}
    assert Edit("move_sign", None).apply(state).sign is None


def test_bad_tensor_shape_is_named() -> None:
    domain = MazeDomain.from_env(MazeEnv())
    with pytest.raises(InvalidArgumentError, match=r"\[6, 7, 7\] tensor, got \[6, 9, 9\]"):
        domain.decode(np.zeros((6, 9, 9)))
