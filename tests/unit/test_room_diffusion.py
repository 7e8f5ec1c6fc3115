"""MiniGrid rooms as tensors and the diffusion method on them: the differentiable observation is
the env's own, decoding keeps what must not change, and every flip holds on the legal room."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.counterfactual import Target
from rl_workbench.counterfactual.room_diffusion import RoomDiffusionMethod, _apply, _edits_between
from rl_workbench.domains import make_env
from rl_workbench.domains import minigrid_levels as rooms
from rl_workbench.domains.minigrid import GOAL, legality_problems, read_state
from rl_workbench.domains.registry import domain_for
from rl_workbench.generative import FitConfig, RoomGenerator, fit_generator, load_generator_folder
from tests.helpers import ScriptedRoomAgent

ROOMS = [("rlwb/MiniGrid-GoalBallAway-v0", {"size": 8}), ("MiniGrid-DoorKey-5x5-v0", {})]


def _states(env_id: str, kwargs: dict, n: int = 30) -> list:
    env = make_env(env_id, kwargs)
    out = []
    for seed in range(n):
        env.reset(seed=seed)
        out.append(read_state(env))
    return out


@pytest.mark.parametrize(("env_id", "kwargs"), ROOMS)
def test_the_differentiable_observation_is_the_env_s_own(env_id: str, kwargs: dict) -> None:
    domain = domain_for(env_id, kwargs)
    for state in _states(env_id, kwargs):
        soft = rooms.level_tensor(state)[None].requires_grad_(True)
        obs = rooms.observe(soft, state)[0]
        assert torch.equal(obs, domain.encode(state))
        (grad,) = torch.autograd.grad(obs[..., 0].sum(), soft)
        assert grad.abs().sum() > 0  # the codes depend on every cell's weights


@pytest.mark.parametrize(("env_id", "kwargs"), ROOMS)
def test_decoding_keeps_the_room_s_frame_agent_and_objects(env_id: str, kwargs: dict) -> None:
    rng = torch.Generator().manual_seed(0)
    for state in _states(env_id, kwargs):
        one_hot = 2 * rooms.level_tensor(state) - 1
        assert rooms.decode_like(one_hot, state) == state  # exact on a real room
        noisy = one_hot + 1.5 * torch.randn(one_hot.shape, generator=rng)
        decoded = rooms.decode_like(noisy, state)
        before, after = state.array, decoded.array
        border = np.ones(before.shape[:2], dtype=bool)
        border[1:-1, 1:-1] = False
        assert (before[border] == after[border]).all()
        assert decoded.agent_pos == state.agent_pos and decoded.agent_dir == state.agent_dir
        for code in (GOAL, 4, 5, 6, 7):  # goal, door, key, ball, box: moved, never made
            assert (before[:, :, 0] == code).sum() == (after[:, :, 0] == code).sum()


def test_a_proposal_s_changes_are_the_domain_s_atomic_edits() -> None:
    state = _states("rlwb/MiniGrid-GoalBallAway-v0", {"size": 8}, 1)[0]
    free = [
        (x, y)
        for x in range(1, 7)
        for y in range(1, 7)
        if state.object_at((x, y)) == 1 and (x, y) != state.agent_pos
    ]
    domain = domain_for("rlwb/MiniGrid-GoalBallAway-v0", {"size": 8})
    moved = next(e for e in domain.edits(state) if e.kind == "move_goal").apply(state)
    walled = next(e for e in domain.edits(moved) if e.kind == "toggle_wall").apply(moved)
    edits = _edits_between(state, walled)
    assert sorted(e.kind for e in edits) == ["move_goal", "toggle_wall"]
    assert free  # the room has floor to edit


def _check_flips(method: RoomDiffusionMethod, n: int = 12) -> list:
    env_id, kwargs = "rlwb/MiniGrid-GoalRoom-v0", {"size": 8}
    domain = domain_for(env_id, kwargs)
    agent = ScriptedRoomAgent("goal")
    results = []
    for i, state in enumerate(_states(env_id, kwargs, n)):
        if domain.fork(state, "goal", "corner") is None:
            continue
        result = method.explain(state, agent, domain, Target("any"), seed=i)
        results.append(result)
        if result.valid:
            after = result.counterfactual_state
            assert not legality_problems(after)
            # Re-checked here on the legal room, as the env shows it: the action changed.
            probs = agent.action_probs(domain.encode(after)[None])
            assert int(probs.argmax()) != result.original_action
            assert result.edits is not None and result.edits >= 1
    return results


def test_guided_projection_flips_a_goal_seeker_by_moving_little() -> None:
    from rl_workbench.counterfactual import make_method

    method = make_method("guided-projection", family="minigrid")
    assert method.name == "guided-projection"
    results = _check_flips(method)  # type: ignore[arg-type]
    valid = [r for r in results if r.valid]
    assert len(valid) >= len(results) // 2 > 0
    assert all(r.generator_calls == 0 for r in results)
    assert np.median([r.edits for r in valid]) <= 2


@pytest.fixture(scope="module")
def tiny_room_generator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rl_workbench.agents import train_ppo
    from rl_workbench.data import CollectConfig, collect
    from tests.helpers import tiny_train_config

    root = tmp_path_factory.mktemp("rooms")
    config = tiny_train_config(
        env_id="rlwb/MiniGrid-GoalRoom-v0", env_kwargs={"size": 8}, extractor="grid-cnn"
    )
    train_ppo(config, root / "agent", progress=False)
    from rl_workbench.agents import load_agent

    collect(load_agent(root / "agent"), root / "ds", CollectConfig(n_states=64), progress=False)
    fit = FitConfig(steps=10, batch_size=8, block_out_channels=(8, 8), checkpoint_every=5)
    fit_generator(root / "ds", root / "gen", fit, progress=False)
    return root / "gen"


def test_a_fitted_room_generator_loads_and_drives_diffusion(tiny_room_generator: Path) -> None:
    generator = load_generator_folder(tiny_room_generator)
    assert isinstance(generator, RoomGenerator)
    assert (generator.spec.width, generator.spec.height) == (8, 8)
    results = _check_flips(RoomDiffusionMethod(generator=generator), n=6)
    assert results and all(r.generator_calls > 0 for r in results)


def test_a_generator_of_another_room_size_is_refused(tiny_room_generator: Path) -> None:
    from rl_workbench.errors import InvalidArgumentError

    generator = load_generator_folder(tiny_room_generator)
    domain = domain_for("rlwb/MiniGrid-GoalRoom-v0", {"size": 6})
    state = _states("rlwb/MiniGrid-GoalRoom-v0", {"size": 6}, 1)[0]
    method = RoomDiffusionMethod(generator=generator)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="fit a generator on this agent"):
        method.explain(state, ScriptedRoomAgent("goal", size=6), domain, Target("any"))


def test_a_goal_moved_onto_a_former_wall_is_two_edits_that_fit() -> None:
    state = _states("rlwb/MiniGrid-GoalRoom-v0", {"size": 8}, 1)[0]
    grid = state.array
    cell = next(
        (x, y)
        for x in range(1, 7)
        for y in range(1, 7)
        if grid[x, y, 0] == 1 and (x, y) != state.agent_pos
    )
    grid[cell] = (2, 5, 0)  # an inner wall
    walled = type(state).from_array(grid, state.agent_pos, state.agent_dir)
    proposal_grid = walled.array
    goal = walled.cells_of(GOAL)[0]
    proposal_grid[cell] = proposal_grid[goal]
    proposal_grid[goal] = (1, 0, 0)
    proposal = type(state).from_array(proposal_grid, state.agent_pos, state.agent_dir)
    edits = _edits_between(walled, proposal)
    assert sorted(e.kind for e in edits) == ["move_goal", "toggle_wall"]
    assert _apply(walled, edits) == proposal  # the wall comes down before the goal moves in


def test_decoding_counts_only_the_objects_inside_the_room() -> None:
    # An agent standing in an open doorway: the door under it stays, and no second door is made.
    state = _states("rlwb/MiniGrid-GoalRoom-v0", {"size": 8}, 1)[0]
    grid = state.array
    grid[state.agent_pos] = (4, 4, 0)  # an open yellow door under the agent
    doorway = type(state).from_array(grid, state.agent_pos, state.agent_dir)
    rng = torch.Generator().manual_seed(0)
    for _ in range(20):
        noisy = 2 * rooms.level_tensor(doorway) - 1
        noisy = noisy + 1.5 * torch.randn(noisy.shape, generator=rng)
        decoded = rooms.decode_like(noisy, doorway)
        assert (decoded.array[:, :, 0] == 4).sum() == 1
