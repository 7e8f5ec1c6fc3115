"""The maze env: gymnasium contract, determinism, the state API, edits, info and errors."""

from __future__ import annotations

import itertools
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_workbench.envs import MAZE_VARIANTS
from rl_workbench.envs.maze import CHANNELS, MazeEnv, MazeState, bfs_distances, shortest_path
from rl_workbench.errors import InvalidArgumentError, InvalidEditError, RLWorkbenchError
from tests.helpers import TINY_MAZE, rollout


@pytest.mark.parametrize("env_id", sorted(MAZE_VARIANTS))
@pytest.mark.parametrize("obs_mode", ["symbolic", "rgb"])
def test_registered_envs_pass_check_env(env_id: str, obs_mode: str) -> None:
    env = gym.make(env_id, obs_mode=obs_mode, **TINY_MAZE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", sorted(MAZE_VARIANTS))
def test_same_seed_same_rollout(env_id: str) -> None:
    a, b = gym.make(env_id), gym.make(env_id)
    for x, y in zip(rollout(a, seed=7), rollout(b, seed=7), strict=True):
        np.testing.assert_array_equal(x, y)
    c = gym.make(env_id)
    assert any(not np.array_equal(x, y) for x, y in zip(rollout(a, 7), rollout(c, 8), strict=False))


def test_observation_channels(maze_env: gym.Env) -> None:
    obs, _ = maze_env.reset(seed=0)
    state = maze_env.unwrapped.get_state()
    assert obs.shape == (len(CHANNELS), 5, 5) and obs.dtype == np.float32
    # Exactly one of wall / free / out_of_maze per cell; one mouse, one cheese.
    np.testing.assert_array_equal(obs[[0, 1, 5]].sum(0), np.ones((5, 5)))
    assert obs[2].sum() == 1 and obs[2][state.mouse] == 1
    assert obs[3].sum() == 1 and obs[3][state.cheese] == 1
    np.testing.assert_array_equal(obs[0] + obs[5], state.walls)


def test_rgb_observation_and_render() -> None:
    env = gym.make("rlwb/Maze-v0", obs_mode="rgb", render_mode="rgb_array", cell_px=10)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8
    frame = env.render()
    assert frame.shape == (70, 70, 3)  # 7x7 world, 10 px per cell
    assert len(np.unique(obs.reshape(-1, 3), axis=0)) >= 4  # out, wall, floor, mouse/cheese


def test_state_round_trip_and_reset_from_state(maze_env: gym.Env) -> None:
    maze_env.reset(seed=3)
    for _ in range(3):
        maze_env.step(1)
    state = maze_env.unwrapped.get_state()
    clone = pickle.loads(pickle.dumps(state))
    assert clone == state and hash(clone) == hash(state)
    assert MazeState.from_dict(state.to_dict()) == state
    other = gym.make("rlwb/Maze-v0", **TINY_MAZE)
    obs, info = other.reset(options={"state": state})
    assert other.unwrapped.get_state() == state
    np.testing.assert_array_equal(obs, maze_env.unwrapped.observation())
    assert info["optimal_steps"] == bfs_distances(state.walls, state.mouse)[state.cheese]
    # Same actions from the same state give the same future.
    for action in [0, 3, 1, 2, 3]:
        a = maze_env.step(action)
        b = other.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
    # set_state restores exactly too, and the JSON form works in reset options.
    other.unwrapped.set_state(state)
    assert other.unwrapped.get_state() == state
    other.reset(options={"state": state.to_dict()})
    assert other.unwrapped.get_state() == state


def test_following_the_shortest_path_gets_the_cheese(maze_env: gym.Env) -> None:
    _, info = maze_env.reset(seed=11)
    state = maze_env.unwrapped.get_state()
    path = shortest_path(state.walls, state.mouse, state.cheese)
    moves = {(-1, 0): 0, (1, 0): 1, (0, -1): 2, (0, 1): 3}
    total = 0.0
    for a, b in itertools.pairwise(path):
        _obs, reward, terminated, truncated, info = maze_env.step(moves[(b[0] - a[0], b[1] - a[1])])
        total += reward
    assert terminated and not truncated and total == 10.0 and info["got_cheese"]
    assert info["steps"] == info["optimal_steps"] == len(path) - 1


def test_walls_block_and_timeout_truncates() -> None:
    env = gym.make("rlwb/Maze-v0", max_steps=20, **TINY_MAZE)
    env.reset(seed=0)
    state = env.unwrapped.get_state()
    # The start is the bottom-left corner of the maze: moving left hits the padding or a wall.
    env.step(2)
    assert env.unwrapped.get_state().mouse == state.mouse
    truncated = False
    for _ in range(20):
        _, _, terminated, truncated, _ = env.step(2)
    assert truncated and not terminated


def test_info_flags_corner_and_sign() -> None:
    env = gym.make("rlwb/MazeSignAway-v0", min_size=5, max_size=5)
    env.reset(seed=5)
    state = env.unwrapped.get_state()
    # Walk to the corner along the shortest path and check the flag flips on arrival.
    path = shortest_path(state.walls, state.mouse, state.corner)
    moves = {(-1, 0): 0, (1, 0): 1, (0, -1): 2, (0, 1): 3}
    info = {}
    for a, b in itertools.pairwise(path):
        _, _, terminated, _, info = env.step(moves[(b[0] - a[0], b[1] - a[1])])
        if terminated:
            break
    assert info["reached_corner"] or info["got_cheese"]
    assert info["reached_sign"] == (state.sign in path[: info["steps"] + 1])


def test_edits_return_new_states_and_refuse_illegal_ones() -> None:
    env = MazeEnv(min_size=5, max_size=5)
    env.reset(seed=0)
    state = env.get_state()
    free = [c for c in state.free_cells() if c not in (state.mouse, state.cheese)]
    moved = state.move_cheese(free[0])
    assert moved.cheese == free[0] and state.cheese != free[0]
    assert state.move_mouse(free[1]).mouse == free[1]
    assert state.move_sign(free[2]).sign == free[2]
    assert state.move_sign(free[2]).move_sign(None).sign is None
    wall = next(c for c in zip(*np.nonzero(state.walls & state.maze_mask()), strict=True))
    wall = (int(wall[0]), int(wall[1]))
    opened = state.toggle_wall(wall)
    assert not opened.walls[wall] and opened.toggle_wall(wall) == state
    with pytest.raises(InvalidEditError, match="is a wall"):
        state.move_cheese(wall)
    with pytest.raises(InvalidEditError, match="on the mouse"):
        state.move_cheese(state.mouse)
    with pytest.raises(InvalidEditError, match="outside the maze"):
        _outside_edit()
    with pytest.raises(InvalidEditError, match="on the cheese"):
        state.toggle_wall(state.cheese)
    # Moving the cheese carries a sign that marks it.
    marked = state.move_sign(state.cheese)
    assert marked.move_cheese(free[0]).sign == free[0]


def _outside_edit() -> None:
    env = MazeEnv(min_size=5, max_size=5, world_size=7)
    env.reset(seed=0)
    env.get_state().toggle_wall((0, 0))  # the 5x5 maze starts at (1, 1)


def test_on_distribution_check() -> None:
    env = MazeEnv(min_size=7, max_size=7, cheese_region=1)
    env.reset(seed=2)
    state = env.get_state()
    assert env.is_on_distribution(state)
    elsewhere = next(c for c in state.free_cells() if c not in (state.corner, state.mouse))
    assert not env.is_on_distribution(state.move_cheese(elsewhere))  # cheese left the region
    assert MazeEnv(min_size=7, max_size=7).is_on_distribution(state.move_cheese(elsewhere))
    assert not env.is_on_distribution(state.move_sign(state.cheese))  # this env has no sign


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_size": 4}, "odd integer in 3..25"),
        ({"max_size": 27}, "odd integer in 3..25"),
        ({"min_size": 9, "max_size": 5}, "must not exceed"),
        ({"max_size": 9, "world_size": 7}, "at least max_size"),
        ({"cheese_region": -1}, "cheese_region"),
        ({"sign": "green"}, "sign must be one of"),
        ({"obs_mode": "pixels"}, "obs_mode must be one of"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        MazeEnv(**kwargs)


def test_state_from_another_world_is_refused() -> None:
    small = MazeEnv(min_size=5, max_size=5)
    small.reset(seed=0)
    big = MazeEnv(max_size=9)
    with pytest.raises(RLWorkbenchError, match="world_size=5"):
        big.reset(options={"state": small.get_state()})
