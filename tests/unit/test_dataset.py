"""The dataset format: what collect writes can be read back, with numpy alone, and restored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.agents import load_agent
from rl_workbench.data import CollectConfig, Dataset, collect
from rl_workbench.domains import make_env
from rl_workbench.errors import DatasetError


@pytest.fixture
def dataset(tiny_agent_dir: Path, tmp_path: Path) -> Dataset:
    loaded = load_agent(tiny_agent_dir)
    return collect(
        loaded,
        tmp_path / "ds",
        CollectConfig(n_states=250, shard_size=100, n_envs=4),
        progress=False,
    )


def test_rows_shards_and_manifest(dataset: Dataset) -> None:
    assert dataset.n_states == 250
    assert [s["n"] for s in dataset.manifest["shards"]] == [100, 100, 50]
    a = dataset.arrays()
    assert a["obs"].shape == (250, 6, 5, 5) and a["probs"].shape == (250, 4)
    np.testing.assert_allclose(a["probs"].sum(1), 1.0, atol=1e-5)
    assert set(dataset.manifest["fields"]) >= {"obs", "action", "walls", "mouse", "cheese", "sign"}


def test_readable_with_numpy_alone(dataset: Dataset) -> None:
    folder = dataset.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    obs = np.concatenate([np.load(folder / s["file"])["obs"] for s in manifest["shards"]])
    np.testing.assert_array_equal(obs, dataset.arrays("obs")["obs"])


def test_states_restore_to_the_same_observations_and_distributions(
    dataset: Dataset, tiny_agent_dir: Path
) -> None:
    loaded = load_agent(tiny_agent_dir)
    env = make_env(loaded.env_id, loaded.env_kwargs)
    a = dataset.arrays("obs", "probs")
    states = dataset.maze_states()
    for i in range(0, 250, 37):
        obs, _ = env.reset(options={"state": states[i]})
        np.testing.assert_array_equal(obs, a["obs"][i])
        with torch.no_grad():
            p = loaded.agent.action_probs(torch.as_tensor(obs[None]))[0].numpy()
        np.testing.assert_allclose(p, a["probs"][i], atol=1e-6)


def test_episodes_follow_their_seeds(dataset: Dataset, tiny_agent_dir: Path) -> None:
    loaded = load_agent(tiny_agent_dir)
    env = make_env(loaded.env_id, loaded.env_kwargs)
    a = dataset.arrays("obs", "episode", "step")
    starts = np.flatnonzero(a["step"] == 0)
    assert len(starts) >= 4  # one per parallel env at least
    for row in starts:
        obs, _ = env.reset(seed=dataset.manifest["seed"] + int(a["episode"][row]))
        np.testing.assert_array_equal(obs, a["obs"][row])


def test_errors_name_the_problem(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no manifest\.json.*rlwb collect"):
        Dataset.open(tmp_path / "empty")
    (dataset.folder / "shard-00001.npz").unlink()
    with pytest.raises(DatasetError, match=r"incomplete: shard shard-00001\.npz is missing"):
        Dataset.open(dataset.folder)
    manifest = json.loads((dataset.folder / "manifest.json").read_text())
    manifest["version"] = 99
    (dataset.folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="format version 99"):
        Dataset.open(dataset.folder)


def test_refuses_to_overwrite(dataset: Dataset, tiny_agent_dir: Path) -> None:
    with pytest.raises(DatasetError, match="already holds a dataset"):
        collect(
            load_agent(tiny_agent_dir), dataset.folder, CollectConfig(n_states=5), progress=False
        )


def test_minigrid_agent_collects_a_dataset(tmp_path: Path) -> None:
    """An agent trained by anyone on MiniGrid with FullyObsWrapper + ImgObsWrapper runs here."""
    from stable_baselines3 import PPO

    env = make_env("MiniGrid-Empty-5x5-v0")
    model = PPO(
        "MlpPolicy",
        env,
        policy_kwargs={"net_arch": [16]},
        n_steps=32,
        batch_size=32,
        seed=0,
        device="cpu",
    )
    model.save(tmp_path / "mg.zip")
    loaded = load_agent(tmp_path / "mg.zip", "MiniGrid-Empty-5x5-v0")
    ds = collect(loaded, tmp_path / "ds", CollectConfig(n_states=60, n_envs=2), progress=False)
    a = ds.arrays()
    assert a["obs"].shape == (60, 5, 5, 3) and a["obs"].dtype == np.uint8
    assert a["probs"].shape == (60, 7) and not ds.is_maze
    with pytest.raises(DatasetError, match="holds no maze states"):
        ds.maze_states()


def _listed_shards(folder: Path) -> int:
    import json

    try:
        return len(json.loads((folder / "manifest.json").read_text())["shards"])
    except (OSError, ValueError, KeyError):
        return 0


def test_a_killed_collection_leaves_a_valid_dataset(tiny_agent_dir: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rl_workbench",
            "--quiet",
            "--threads",
            "1",
            "collect",
            "--agent",
            str(tiny_agent_dir),
            "--n-states",
            "10000000",
            "--shard-size",
            "200",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        # Wait until the manifest lists two shards (a shard file appears just before the
        # manifest that names it; killing in between must still leave a valid, smaller dataset).
        while time.monotonic() < deadline and _listed_shards(out) < 2:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    ds = Dataset.open(out)
    assert ds.n_states >= 400 and ds.n_states % 200 == 0
    assert len(ds.arrays("obs")["obs"]) == ds.n_states
