"""The MiniGrid domain (issue 15, section 1): states read from and written back into minigrid's
env exactly, observed through the env's own wrappers, edited atomically, checked for legality,
drawn by minigrid's renderer; and the search method finding the fewest edits on it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from rl_workbench.agents import Agent
from rl_workbench.counterfactual.methods import make_method
from rl_workbench.domains import make_env
from rl_workbench.domains.minigrid import (
    DOOR,
    DOOR_LOCKED,
    GOAL,
    WALL,
    MiniGridState,
    legality_problems,
    read_state,
    write_state,
)
from rl_workbench.domains.registry import domain_for, family_of_state
from rl_workbench.errors import InvalidArgumentError, InvalidEditError

ENVS = ("MiniGrid-Empty-6x6-v0", "MiniGrid-DoorKey-6x6-v0", "MiniGrid-LavaGapS5-v0")


def _played(env_id: str, seed: int, steps: int) -> tuple[gym.Env, np.ndarray]:
    env = make_env(env_id)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(3)))
        if terminated or truncated:
            obs, _ = env.reset(seed=seed + 1000)
    return env, obs


@pytest.mark.parametrize("env_id", ENVS)
def test_a_state_written_into_a_fresh_env_is_seen_and_drawn_as_the_original(env_id: str) -> None:
    domain = domain_for(env_id)
    for seed in range(5):
        env, obs = _played(env_id, seed, steps=seed * 3)
        state = read_state(env)
        assert family_of_state(state) == "minigrid"
        assert np.array_equal(domain.observe(state), obs)  # what the agent saw, exactly
        assert torch.equal(domain.encode(state), torch.as_tensor(obs, dtype=torch.float32))
        fresh = make_env(env_id)
        fresh.reset(seed=99)  # another level entirely
        write_state(fresh, state)
        assert read_state(fresh) == state
        drawn = env.unwrapped.get_frame(highlight=False, tile_size=16)
        assert np.array_equal(domain.picture(state, tile_size=16), drawn)
        assert MiniGridState.from_dict(domain.state_to_json(state)) == state


@pytest.mark.parametrize("env_id", ENVS)
def test_every_level_the_env_generates_is_legal(env_id: str) -> None:
    domain = domain_for(env_id)
    for seed in range(40):
        env = make_env(env_id)
        env.reset(seed=seed)
        state = read_state(env)
        assert domain.is_on_distribution(state), (seed, legality_problems(state))


def test_illegal_states_are_named() -> None:
    env = make_env("MiniGrid-DoorKey-6x6-v0")
    env.reset(seed=1)
    state = read_state(env)
    grid = state.array
    gap = grid.copy()
    gap[0, 2] = (1, 0, 0)  # an empty cell in the outer wall
    assert "the outer wall has a gap" in legality_problems(
        MiniGridState.from_array(gap, state.agent_pos, state.agent_dir)
    )
    # the key taken away: the locked door can no longer be opened, the goal is out of reach
    (key,) = zip(*np.nonzero(grid[:, :, 0] == 5), strict=True)
    no_key = grid.copy()
    no_key[key] = (1, 0, 0)
    assert legality_problems(
        MiniGridState.from_array(no_key, state.agent_pos, state.agent_dir)
    ) == ["the goal cannot be reached"]
    # ...unless the agent carries a key of the door's colour
    (door,) = zip(*np.nonzero(grid[:, :, 0] == DOOR), strict=True)
    assert grid[door][2] == DOOR_LOCKED
    carried = MiniGridState.from_array(
        no_key, state.agent_pos, state.agent_dir, (5, int(grid[door][1]), 0)
    )
    assert legality_problems(carried) == []


def test_every_edit_is_one_change_and_refused_edits_say_why() -> None:
    domain = domain_for("MiniGrid-DoorKey-6x6-v0")
    env = make_env("MiniGrid-DoorKey-6x6-v0")
    env.reset(seed=2)
    state = read_state(env)
    kinds = set()
    for edit in domain.edits(state):
        edited = edit.apply(state)
        kinds.add(edit.kind)
        assert edited != state
        assert domain.distance(state, edited) == 1, edit.describe()
    assert kinds == {"move_goal", "toggle_wall", "move_object", "set_door", "move_agent",
                     "turn_agent"}  # fmt: skip
    goal = state.cells_of(GOAL)[0]
    from rl_workbench.domains.minigrid import Edit

    with pytest.raises(InvalidEditError):
        Edit("toggle_wall", goal).apply(state)  # the goal's cell holds something
    with pytest.raises(InvalidEditError):
        Edit("move_agent", state.cells_of(WALL)[0]).apply(state)


class GoalSeeker(Agent):
    """Forward when the goal lies straight ahead in an open line, else turn left."""

    def __init__(self, width: int) -> None:
        self.observation_space = gym.spaces.Box(0, 255, (width, width, 3), np.uint8)
        self.action_names = ("left", "right", "forward", "pickup", "drop", "toggle", "done")

    def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
        out = []
        for o in obs.detach().numpy():
            (ax,), (ay,) = np.nonzero(o[:, :, 0] == 10)
            step = ((1, 0), (0, 1), (-1, 0), (0, -1))[int(o[ax, ay, 2])]
            x, y, ahead = ax + step[0], ay + step[1], False
            while 0 <= x < o.shape[0] and 0 <= y < o.shape[1] and o[x, y, 0] != WALL:
                if o[x, y, 0] == GOAL:
                    ahead = True
                x, y = x + step[0], y + step[1]
            logits = np.full(7, -5.0)
            logits[2 if ahead else 0] = 5.0
            out.append(logits)
        return torch.tensor(np.array(out), dtype=torch.float32)


class Wanderer(GoalSeeker):
    """Forward while the cell ahead is open, else turn left: it walks the room's edge."""

    def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
        out = []
        for o in obs.detach().numpy():
            (ax,), (ay,) = np.nonzero(o[:, :, 0] == 10)
            dx, dy = ((1, 0), (0, 1), (-1, 0), (0, -1))[int(o[ax, ay, 2])]
            logits = np.full(7, -5.0)
            logits[0 if o[ax + dx, ay + dy, 0] == WALL else 2] = 5.0
            out.append(logits)
        return torch.tensor(np.array(out), dtype=torch.float32)


def test_search_finds_the_fewest_edits_and_the_flip_holds_in_the_restored_env() -> None:
    from rl_workbench.counterfactual.targets import parse_target

    env_id = "MiniGrid-Empty-6x6-v0"
    domain = domain_for(env_id)
    agent = GoalSeeker(6)
    env = make_env(env_id)
    env.reset(seed=0)
    state = read_state(env)  # the agent at the top left facing right, the goal bottom right
    assert int(agent.act(domain.observe(state))[0]) == 0
    target = parse_target("forward", agent.action_names)
    result = make_method("search").explain(state, agent, domain, target)
    assert result.valid and result.edits == 1, result.edits_in_words
    write_state(env, result.counterfactual_state)
    seen, *_ = env.step(6)  # "done" changes nothing: the env's own observation of the state
    assert int(agent.act(seen)[0]) == 2


@pytest.mark.parametrize("method", ["search", "nearest"])
def test_rlwb_explain_on_a_minigrid_agent_writes_flips_that_hold_in_the_env(
    tmp_path, method: str
) -> None:
    """The explain pipeline end to end on MiniGrid: every valid counterfactual in report.json,
    written back into minigrid's env, makes the agent take the target action there."""
    import json
    from pathlib import Path

    from rl_workbench.agents import LoadedAgent
    from rl_workbench.counterfactual.explain import ExplainConfig, run_explain

    env_id = "MiniGrid-Empty-6x6-v0"
    # search: make a goal seeker go forward; nearest: find real states where a wanderer turns
    agent, target, action = (
        (GoalSeeker(6), "forward", 2) if method == "search" else (Wanderer(6), "left", 0)
    )
    loaded = LoadedAgent(agent, Path("agent.zip"), None, env_id, {})  # type: ignore[arg-type]
    config = ExplainConfig(method=method, target=target, n=4, pool_size=50)
    run_explain(loaded, tmp_path / "out", config, progress=False)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    items = report["items"]
    assert items and all((tmp_path / "out" / "items" / f"item-{i:04d}.png").is_file()
                         for i in range(len(items)))  # fmt: skip
    valid = [item for item in items if item["valid"]]
    assert valid, "no valid counterfactual"
    env = make_env(env_id)
    env.reset(seed=0)
    for item in valid:
        write_state(env, MiniGridState.from_dict(item["counterfactual_state"]))
        seen, *_ = env.step(6)
        assert int(agent.act(seen)[0]) == action
    if method == "search":
        assert all(item["valid"] for item in items)  # one turn or one goal move always works


def test_an_agent_of_the_partial_view_is_fed_its_7x7_view() -> None:
    env_id = "MiniGrid-DoorKey-6x6-v0"
    domain = domain_for(env_id, {"view": "partial"})
    for seed in range(4):
        env = make_env(env_id, {"view": "partial"})
        obs, _ = env.reset(seed=seed)
        for action in (0, 2, 2, 1, 2)[: seed + 1]:
            obs, *_ = env.step(action)
        assert obs.shape == (7, 7, 3)
        assert np.array_equal(domain.observe(read_state(env)), obs)
    with pytest.raises(InvalidArgumentError, match="view=full or --env-arg view=partial"):
        make_env(env_id, {"view": "egocentric"})


def test_the_figure_outlines_exactly_the_changed_tile() -> None:
    from rl_workbench.report.grid_figure import changed_boxes

    domain = domain_for("MiniGrid-Empty-6x6-v0")
    env = make_env("MiniGrid-Empty-6x6-v0")
    env.reset(seed=0)
    state = read_state(env)
    from rl_workbench.domains.minigrid import Edit

    turned = Edit("turn_agent", state.agent_pos, value=1).apply(state)
    before, after = domain.picture(state), domain.picture(turned)
    tile = before.shape[1] // state.width
    (box,) = changed_boxes(before, after)  # one region: the agent's tile
    x, y = state.agent_pos
    assert x * tile <= box[0] and box[2] < (x + 1) * tile
    assert y * tile <= box[1] and box[3] < (y + 1) * tile
    assert changed_boxes(before, before) == []


def test_a_minigrid_dataset_keeps_every_row_restorable(tmp_path) -> None:
    """`rlwb collect` on a MiniGrid agent keeps each row's state (grid, agent, load) beside the
    observation, documented in the manifest, and the states read back are seen as that row."""
    from pathlib import Path

    from rl_workbench.agents import LoadedAgent
    from rl_workbench.data import CollectConfig, Dataset, collect

    env_id = "MiniGrid-DoorKey-6x6-v0"
    loaded = LoadedAgent(Wanderer(6), Path("agent.zip"), None, env_id, {})  # type: ignore[arg-type]
    collect(loaded, tmp_path / "data", CollectConfig(n_states=40, seed=3), progress=False)
    data = Dataset.open(tmp_path / "data")
    assert set(data.manifest["fields"]) >= {"grid", "agent_pos", "agent_dir", "carrying"}
    states = data.states()
    observations = data.arrays("obs")["obs"]
    domain = domain_for(env_id)
    assert len(states) == 40
    for state, obs in zip(states, observations, strict=True):
        assert np.array_equal(domain.observe(state), obs)


def test_reach_goal_targets_are_judged_by_playing_the_state_out_in_the_env() -> None:
    """`--target reach:goal`: the smallest legal change after which the agent reaches the
    goal, judged by rollouts in minigrid's own env (a wanderer that walks the room's edge
    reaches a goal on its round and misses one in the middle of the room)."""
    from rl_workbench.counterfactual.targets import parse_target
    from rl_workbench.domains.minigrid import Edit

    env_id = "MiniGrid-Empty-6x6-v0"
    domain = domain_for(env_id)
    agent = Wanderer(6)
    env = make_env(env_id)
    env.reset(seed=0)
    state = read_state(env)  # goal at the bottom right (4, 4): on the wanderer's round
    probs = lambda obs: agent.action_probs(obs)  # noqa: E731
    assert domain.roll_out([state], probs, "goal").reached("goal").all()
    centre = Edit("move_goal", (2, 2)).apply(state)
    rolled = domain.roll_out([centre], probs, "goal")
    assert not rolled.reached("goal").any() and rolled.closest[0] >= 1
    assert domain.first_move_toward(state, "goal") == 2  # facing right, the way is ahead
    target = parse_target("reach:goal", agent.action_names, domain.landmarks)
    result = make_method("search").explain(centre, agent, domain, target)
    assert result.valid and result.edits == 1  # one edit puts the goal back on its round
    write_state(env, result.counterfactual_state)
    env.unwrapped.step_count = 0
    for _ in range(100):  # the env's own play, not the domain's
        obs = env.observation(env.env.observation(env.unwrapped.gen_obs()))
        _, _, terminated, _, _ = env.step(int(agent.act(obs)[0]))
        if terminated:
            break
    assert tuple(env.unwrapped.agent_pos) == result.counterfactual_state.cells_of(GOAL)[0]
