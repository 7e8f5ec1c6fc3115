"""The imitation warm start: the solver's demonstrations are right, imitation teaches a policy
to follow them, and training records it (and does not repeat it on resume)."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from rl_workbench.agents import load_agent
from rl_workbench.agents.imitation import action_accuracy, imitate
from rl_workbench.agents.networks import RecurrentGridCNN
from rl_workbench.agents.train import (
    CHECKPOINT_DIR,
    CHECKPOINT_FILE,
    WARM_START_FILE,
    train_ppo,
)
from rl_workbench.domains import make_env
from rl_workbench.domains.maze import MazeDomain
from rl_workbench.domains.registry import domain_for
from rl_workbench.envs.maze import bfs_distances
from rl_workbench.errors import InvalidArgumentError
from tests.helpers import TINY_MAZE, ScriptedRoomAgent, tiny_train_config


def test_demonstrations_step_down_the_shortest_path_with_the_solver_return() -> None:
    env = make_env("rlwb/Maze-v0", TINY_MAZE)
    domain = MazeDomain.from_env(env)
    demos = domain.demonstrations(env, 60, np.random.default_rng(0), gamma=0.9)
    assert demos.observations.shape == (60, 6, 5, 5) and demos.actions.dtype == np.int64
    base = env.unwrapped
    for obs, action, ret in zip(demos.observations, demos.actions, demos.returns, strict=True):
        walls = (obs[0] > 0.5) | (obs[5] > 0.5)
        mouse = tuple(np.argwhere(obs[2] > 0.5)[0])
        cheese = tuple(np.argwhere(obs[3] > 0.5)[0])
        dist = bfs_distances(walls, cheese)
        d = int(dist[mouse])
        assert ret == pytest.approx(10 * 0.9 ** (d - 1))
        state = base.get_state().replace(walls=walls, mouse=mouse, cheese=cheese, sign=None)
        base.set_state(state)
        base.step(int(action))
        assert dist[base.get_state().mouse] == d - 1  # one move nearer the cheese


def test_imitation_teaches_a_recurrent_policy_the_solver_moves() -> None:
    torch.manual_seed(0)
    env = make_env("rlwb/Maze-v0", TINY_MAZE)
    domain = MazeDomain.from_env(env)
    config = tiny_train_config(env_id="rlwb/Maze-v0", extractor="recurrent-grid", net_arch=(32,))
    policy, policy_kwargs = config.policy((6, 5, 5))
    model = PPO(policy, env, policy_kwargs=policy_kwargs, seed=0)
    held_out = domain.demonstrations(env, 400, np.random.default_rng(99), gamma=0.95)
    before = action_accuracy(model.policy, held_out)
    result = imitate(
        model.policy,
        lambda n, rng: domain.demonstrations(env, n, rng, 0.95),
        12_000,
        seed=0,
        progress=False,
    )
    after = action_accuracy(model.policy, held_out)
    assert result.samples == 12_000
    assert before < 0.45 < 0.8 < after, (before, after)  # chance is about 0.25


def test_training_records_the_warm_start_and_resume_keeps_it(tmp_path: Path) -> None:
    config = tiny_train_config(
        env_id="rlwb/Maze-v0", extractor="recurrent-grid", imitation_samples=256
    )
    out = tmp_path / "agent"
    first = train_ppo(config, out, progress=False)
    record = json.loads((out / "checkpoints" / WARM_START_FILE).read_text())
    assert first.card.imitation == record["imitation"]
    assert record["imitation"]["samples"] == 256
    assert {"sampled, imitation only", "greedy, imitation only", "sampled", "greedy"} <= set(
        first.card.evaluation
    )
    assert "imitation of the shortest-path solver on 256" in (out / "README.md").read_text()
    # A resumed run with more steps goes on with PPO: the warm start is not redone.
    stamp = (out / "checkpoints" / WARM_START_FILE).stat().st_mtime_ns
    again = train_ppo(
        config.__class__(**{**config.__dict__, "total_steps": 1024}),
        out,
        progress=False,
        resume=True,
    )
    assert (out / "checkpoints" / WARM_START_FILE).stat().st_mtime_ns == stamp
    assert again.card.imitation == record["imitation"] and again.card.total_steps >= 1024
    # The file loads without --trust-agent: the extractor class is allow-listed.
    loaded = load_agent(out, "rlwb/Maze-v0", TINY_MAZE)
    assert isinstance(loaded.agent.model.policy.features_extractor, RecurrentGridCNN)


def test_zero_ppo_steps_keeps_the_imitator_as_the_agent(tmp_path: Path) -> None:
    config = tiny_train_config(
        env_id="rlwb/Maze-v0", extractor="recurrent-grid", imitation_samples=256, total_steps=0
    )
    out = tmp_path / "agent"
    result = train_ppo(config, out, progress=False)
    assert result.card.total_steps == 0 and result.card.imitation["samples"] == 256
    # The saved agent is the checkpointed imitator, weight for weight: no PPO update ran.
    imitated = load_agent(out / CHECKPOINT_DIR / CHECKPOINT_FILE, "rlwb/Maze-v0", TINY_MAZE)
    agent = load_agent(out, "rlwb/Maze-v0", TINY_MAZE)
    for (name, a), b in zip(
        imitated.agent.model.policy.state_dict().items(),
        agent.agent.model.policy.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b), name
    # Evaluated once, as the final agent (no separate "imitation only" rows).
    assert {"sampled", "greedy"} <= set(result.card.evaluation)
    assert not any("imitation only" in key for key in result.card.evaluation)
    assert "no PPO: the imitator is the agent" in (out / "README.md").read_text()


def test_zero_ppo_steps_without_imitation_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="0 with imitation samples"):
        tiny_train_config(env_id="rlwb/Maze-v0", total_steps=0)


def test_imitation_teaches_a_grid_policy_the_goal_room_solver() -> None:
    """MiniGrid's category codes need raw inputs and ReLU heads (FAMILY_POLICY_KWARGS): with
    SB3's defaults the same run stays at the majority action (about 0.41)."""
    from rl_workbench.agents.train import TrainConfig

    env_id, kwargs = "rlwb/MiniGrid-GoalRoom-v0", {"size": 6}
    torch.manual_seed(0)
    env = make_env(env_id, kwargs)
    config = TrainConfig(env_id=env_id, env_kwargs=kwargs, extractor="grid-cnn")
    policy, policy_kwargs = config.policy((3, 6, 6))
    model = PPO(policy, env, policy_kwargs=policy_kwargs, seed=0, device="cpu")
    domain = domain_for(env_id, kwargs)
    draw = make_env(env_id, kwargs)
    demos = domain.demonstrations(draw, 64, np.random.default_rng(1), 0.95)
    scripted = ScriptedRoomAgent("goal", size=6)
    chosen = scripted.action_probs(torch.as_tensor(demos.observations).float()).argmax(1)
    assert (chosen.numpy() == demos.actions).all()  # the labels are the shortest way's
    result = imitate(
        model.policy,  # type: ignore[arg-type]
        lambda n, rng: domain.demonstrations(draw, n, rng, 0.95),
        40_000,
        seed=0,
        progress=False,
    )
    assert result.held_out_accuracy > 0.7, result  # 0.855 measured


def test_imitation_is_refused_where_no_solver_exists(tmp_path: Path) -> None:
    config = tiny_train_config(env_id="MiniGrid-DoorKey-5x5-v0", env_kwargs={}, imitation_samples=8)
    with pytest.raises(InvalidArgumentError, match="only walks open floor"):
        train_ppo(config, tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()  # refused before any work


def test_the_recurrent_extractor_reads_features_at_the_agent() -> None:
    space = gym.spaces.Box(0.0, 1.0, (6, 15, 15), np.float32)
    net = RecurrentGridCNN(space, iterations=1)  # sees 1 + 2 + 1 = 4 cells around the agent
    assert RecurrentGridCNN(space).iterations == 45  # three times the side by default
    obs = torch.zeros(1, 6, 15, 15)
    obs[0, 1] = 1.0
    obs[0, 2, 7, 7] = 1.0
    far = obs.clone()
    far[0, 3, 0, 0] = 1.0  # 7 cells away: beyond what one iteration can carry to the agent
    assert torch.allclose(net(obs), net(far))
    near = obs.clone()
    near[0, 3, 7, 10] = 1.0
    assert not torch.allclose(net(obs), net(near))


def test_the_recurrent_extractor_computes_its_block_on_the_concatenated_input() -> None:
    """The forward pass splits the block's first conv by input for speed; it must stay the
    block applied to [state, observation], as the layers (and saved agents) define it."""
    torch.manual_seed(0)
    space = gym.spaces.Box(0.0, 1.0, (6, 9, 9), np.float32)
    net = RecurrentGridCNN(space, iterations=5)
    obs = (torch.rand(3, 6, 9, 9) > 0.7).float()
    obs[:, 2] = 0.0
    obs[torch.arange(3), 2, torch.tensor([1, 4, 7]), torch.tensor([2, 4, 6])] = 1.0
    h = torch.relu(net.project(obs))
    for _ in range(net.iterations):
        h = torch.relu(h + net.block(torch.cat([h, obs], dim=1)))
    features = net.readout(torch.cat([h, obs], dim=1))
    reference = net.norm((features * obs[:, 2:3]).sum((2, 3)))
    assert torch.allclose(net(obs), reference, atol=1e-5)
    assert not torch.allclose(net(obs), net(obs.roll(1, dims=3)), atol=1e-3)  # it reads obs


def test_the_shipped_doorkey_recipe_keeps_the_policy_it_was_trained_with() -> None:
    """New MiniGrid runs take raw codes with ReLU heads; the zoo's minigrid-doorkey, trained
    before that, must rebuild with SB3's defaults (else its card's command makes another agent)."""
    from rl_workbench.agents.train import TrainConfig
    from rl_workbench.agents.zoo import RECIPES

    _, fresh = TrainConfig(env_id="MiniGrid-DoorKey-5x5-v0", extractor="grid-cnn").policy((3, 5, 5))
    assert fresh["normalize_images"] is False and fresh["activation_fn"] is torch.nn.ReLU
    _, shipped = RECIPES["minigrid-doorkey"].config.policy((3, 5, 5))
    assert "normalize_images" not in shipped and "activation_fn" not in shipped


def test_the_minigrid_solver_is_judged_on_fresh_levels_not_the_one_the_env_holds() -> None:
    """A door left in the domain's env by earlier work must not refuse an open-room family."""
    from minigrid.core.world_object import Door

    from rl_workbench.domains.registry import domain_for

    domain = domain_for("rlwb/MiniGrid-GoalRoom-v0", {"size": 6})
    domain.env.unwrapped.grid.set(1, 1, Door("red"))
    assert domain.solver_refusal() is None
    doors = domain_for("MiniGrid-DoorKey-5x5-v0", {})
    assert "level of seed 0: door, key" in (doors.solver_refusal() or "")
