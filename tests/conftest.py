"""Shared fixtures: tiny agents built in seconds, and isolation from the developer's machine."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch

import rl_workbench  # noqa: F401  (registers the envs)
from tests.helpers import TINY_MAZE, tiny_train_config

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point data and config dirs at tmp so no test reads or writes the developer's files."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture(scope="session")
def tiny_agent_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a PPO agent trained 512 steps on small corner mazes, plus its model card."""
    from rl_workbench.agents import train_ppo

    out = tmp_path_factory.mktemp("tiny-agent")
    train_ppo(tiny_train_config(), out, name="tiny", command="pytest fixture", progress=False)
    return out


@pytest.fixture
def maze_env() -> gym.Env:
    env = gym.make("rlwb/Maze-v0", **TINY_MAZE)
    yield env
    env.close()


@pytest.fixture(scope="session")
def tiny_dataset_dir(tiny_agent_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 states of the tiny agent on small uniform mazes."""
    from rl_workbench.agents import load_agent
    from rl_workbench.data import CollectConfig, collect

    out = tmp_path_factory.mktemp("tiny-data") / "ds"
    loaded = load_agent(tiny_agent_dir, "rlwb/Maze-v0", TINY_MAZE)
    collect(loaded, out, CollectConfig(n_states=300, n_envs=4), progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_generator_dir(tiny_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4x8x8 UNet fitted for 20 steps: enough to exercise every code path, in seconds."""
    from rl_workbench.generative import FitConfig, fit_generator

    out = tmp_path_factory.mktemp("tiny-gen") / "gen"
    config = FitConfig(steps=20, batch_size=8, block_out_channels=(8, 8), checkpoint_every=10)
    fit_generator(tiny_dataset_dir, out, config, progress=False)
    return out
