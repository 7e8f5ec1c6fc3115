"""Where training runs (--vec-env, --device) changes nothing about what is trained."""

from __future__ import annotations

from pathlib import Path

import torch

from rl_workbench.agents import TrainConfig, load_agent, train_ppo
from tests.helpers import tiny_train_config


def _train(out: Path, vec_env: str, device: str) -> dict[str, torch.Tensor]:
    config = tiny_train_config(
        env_id="rlwb/Maze-v0",
        total_steps=128,
        n_envs=2,
        eval_episodes=2,
        vec_env=vec_env,
        device=device,
    )
    train_ppo(config, out, name="t", command="pytest", progress=False)
    return load_agent(out).agent.policy.state_dict()


def test_subprocess_envs_train_the_same_weights_as_in_process_envs(tmp_path: Path) -> None:
    dummy = _train(tmp_path / "dummy", "dummy", "cpu")
    subproc = _train(tmp_path / "subproc", "subproc", "auto")  # auto: the CPU here
    assert dummy.keys() == subproc.keys()
    for key, value in dummy.items():
        assert torch.equal(value, subproc[key]), key
    untrained = TrainConfig(env_id="rlwb/Maze-v0").hyperparameters()
    assert "device" not in untrained and "vec_env" not in untrained  # not recipe settings
