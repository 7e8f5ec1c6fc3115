"""The goal rooms (issue 15, section 3): MiniGrid's empty room with the goal's place and a ball as
variables, registered as rlwb/MiniGrid-* ids and handled as MiniGrid levels."""

from __future__ import annotations

import numpy as np
import pytest

from rl_workbench.domains import make_env
from rl_workbench.domains.environments import action_names, env_family
from rl_workbench.domains.minigrid import GOAL, MiniGridDomain, read_state, write_state
from rl_workbench.domains.registry import domain_for_env
from rl_workbench.errors import InvalidArgumentError

BALL = 6  # minigrid's OBJECT_TO_IDX["ball"]


def _places(env_id: str, seeds: range) -> tuple[set, list[int]]:
    """Where the goal was, and the ball's distance from it (-1: no ball), over ``seeds``."""
    env = make_env(env_id)
    goals, gaps = set(), []
    for seed in seeds:
        env.reset(seed=seed)
        kinds = env.unwrapped.grid.encode()[:, :, 0]
        goal = tuple(np.argwhere(kinds == GOAL)[0])
        goals.add(goal)
        balls = np.argwhere(kinds == BALL)
        gaps.append(int(np.abs(balls[0] - goal).sum()) if len(balls) else -1)
    return goals, gaps


def test_the_goal_is_in_the_corner_or_anywhere_and_the_ball_beside_it_or_anywhere() -> None:
    corner, gaps = _places("rlwb/MiniGrid-GoalCorner-v0", range(30))
    assert corner == {(4, 4)} and set(gaps) == {-1}  # 6x6 with walls: the bottom-right square
    anywhere, _ = _places("rlwb/MiniGrid-GoalRoom-v0", range(60))
    assert len(anywhere) > 8  # of the 16 free squares
    _, beside = _places("rlwb/MiniGrid-GoalBall-v0", range(30))
    assert set(beside) == {1}
    _, away = _places("rlwb/MiniGrid-GoalBallAway-v0", range(60))
    assert min(away) >= 1 and max(away) > 2


def test_goal_rooms_are_minigrid_levels_to_the_workbench() -> None:
    env = make_env("rlwb/MiniGrid-GoalBall-v0", {"size": 8})
    obs, _ = env.reset(seed=1)
    assert env_family("rlwb/MiniGrid-GoalBall-v0") == "minigrid"
    assert env_family("rlwb/MazeCorner-v0") == "maze"
    assert obs.shape == (8, 8, 3)  # the full grid, as MiniGrid agents are trained
    assert action_names(env)[:3] == ("left", "right", "forward")
    domain = domain_for_env(env)
    assert isinstance(domain, MiniGridDomain)
    state = read_state(env)
    assert domain.is_playable(state)
    fresh = make_env("rlwb/MiniGrid-GoalBall-v0", {"size": 8})
    fresh.reset(seed=99)
    write_state(fresh, state)
    assert read_state(fresh) == state


def test_bad_goal_room_keywords_are_refused_with_the_choices() -> None:
    with pytest.raises(InvalidArgumentError, match="corner, anywhere"):
        make_env("rlwb/MiniGrid-GoalRoom-v0", {"goal": "center"}).reset()
    with pytest.raises(InvalidArgumentError, match="at least 4"):
        make_env("rlwb/MiniGrid-GoalRoom-v0", {"size": 3}).reset()
