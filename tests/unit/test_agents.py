"""The SB3 adapters agree with stable-baselines3 exactly, and load errors are clear."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.agents import SB3Agent, detect_algorithm, load_agent, load_sb3_model
from rl_workbench.domains import make_env
from rl_workbench.errors import AgentLoadError, SpaceMismatchError, UnknownNameError
from tests.helpers import TINY_MAZE, make_tiny_model


def _obs_batch(n: int = 8, env_id: str = "rlwb/Maze-v0", kwargs: dict | None = None) -> np.ndarray:
    env = make_env(env_id, TINY_MAZE if kwargs is None else kwargs)
    return np.stack([env.reset(seed=i)[0] for i in range(n)])


@pytest.mark.parametrize("algorithm", ["PPO", "A2C"])
def test_actor_critic_probs_equal_sb3(algorithm: str, tmp_path: Path) -> None:
    model = make_tiny_model(algorithm)
    model.save(tmp_path / "m.zip")
    loaded = load_sb3_model(tmp_path / "m.zip")
    assert type(loaded).__name__ == algorithm == detect_algorithm(tmp_path / "m.zip")
    agent = SB3Agent(loaded, ("up", "down", "left", "right"))
    obs = _obs_batch()
    obs_t, _ = loaded.policy.obs_to_tensor(obs)
    with torch.no_grad():
        expected = loaded.policy.get_distribution(obs_t).distribution.probs
        expected_value = loaded.policy.predict_values(obs_t).squeeze(-1)
        ours = agent.action_probs(torch.as_tensor(obs))
        value = agent.value(torch.as_tensor(obs))
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-7)
    torch.testing.assert_close(value, expected_value)
    # And the loaded model is the saved one: same probabilities as before saving.
    with torch.no_grad():
        before = model.policy.get_distribution(
            model.policy.obs_to_tensor(obs)[0]
        ).distribution.probs
    torch.testing.assert_close(ours, before)


def test_dqn_logits_are_q_values_and_distribution_is_argmax(tmp_path: Path) -> None:
    model = make_tiny_model("DQN")
    model.save(tmp_path / "dqn.zip")
    loaded = load_sb3_model(tmp_path / "dqn.zip")
    assert detect_algorithm(tmp_path / "dqn.zip") == "DQN"
    agent = SB3Agent(loaded)
    obs = _obs_batch()
    with torch.no_grad():
        q = loaded.policy.q_net(loaded.policy.obs_to_tensor(obs)[0])
        probs = agent.action_probs(torch.as_tensor(obs))
    torch.testing.assert_close(agent.action_logits(torch.as_tensor(obs)).detach(), q)
    np.testing.assert_array_equal(probs.argmax(1).numpy(), q.argmax(1).numpy())
    np.testing.assert_array_equal(probs.sum(1).numpy(), np.ones(len(obs)))
    np.testing.assert_array_equal(agent.act(obs), loaded.predict(obs, deterministic=True)[0])
    torch.testing.assert_close(agent.value(torch.as_tensor(obs)).detach(), q.max(1).values)


def test_logits_are_differentiable_in_the_observation() -> None:
    agent = SB3Agent(make_tiny_model("PPO"))
    obs = torch.as_tensor(_obs_batch(2)).requires_grad_(True)
    agent.action_logits(obs)[:, 1].sum().backward()
    assert obs.grad is not None and obs.grad.abs().sum() > 0


def test_channels_last_env_is_transposed_for_a_channels_first_model(tmp_path: Path) -> None:
    """MiniGrid images (W, H, 3) are transposed by SB3 during training; the adapter must match."""
    from stable_baselines3 import PPO

    env_id = "MiniGrid-Empty-5x5-v0"
    env = make_env(env_id)
    model = PPO(
        "MlpPolicy",
        env,
        policy_kwargs={"net_arch": [16]},
        n_steps=32,
        batch_size=32,
        seed=0,
        device="cpu",
    )
    model.learn(64)
    model.save(tmp_path / "mg.zip")
    loaded = load_agent(tmp_path / "mg.zip", env_id)
    assert loaded.agent.action_names[:3] == ("left", "right", "forward")
    obs = np.stack([env.reset(seed=i)[0] for i in range(4)])
    assert obs.shape[1:] == (5, 5, 3)
    with torch.no_grad():
        expected = model.policy.get_distribution(
            model.policy.obs_to_tensor(obs.transpose(0, 3, 1, 2))[0]
        ).distribution.probs
    torch.testing.assert_close(loaded.agent.action_probs(torch.as_tensor(obs)), expected)


def test_load_agent_from_folder_uses_its_card(tiny_agent_dir: Path) -> None:
    loaded = load_agent(tiny_agent_dir)
    assert loaded.env_id == "rlwb/MazeCorner-v0" and loaded.env_kwargs == TINY_MAZE
    assert loaded.card is not None and loaded.card.name == "tiny"
    assert loaded.agent.action_names == ("up", "down", "left", "right")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AgentLoadError, match=r"No agent at .*nope\.zip.*zoo:NAME"):
        load_agent(tmp_path / "nope.zip", "rlwb/Maze-v0")


def test_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    bad = tmp_path / "notes.zip"
    bad.write_text("hello")
    with pytest.raises(AgentLoadError, match="not a stable-baselines3 model file"):
        load_agent(bad, "rlwb/Maze-v0")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(AgentLoadError, match="not a stable-baselines3 model file"):
        load_agent(other, "rlwb/Maze-v0")


def test_agent_without_card_needs_an_env(tmp_path: Path) -> None:
    make_tiny_model("PPO").save(tmp_path / "bare.zip")
    with pytest.raises(AgentLoadError, match="Pass it with --env"):
        load_agent(tmp_path / "bare.zip")


def test_observation_mismatch_names_both_shapes(tmp_path: Path) -> None:
    make_tiny_model("PPO").save(tmp_path / "m.zip")  # trained on 5x5 worlds: (6, 5, 5)
    with pytest.raises(SpaceMismatchError, match=r"\(6, 5, 5\).*\(6, 9, 9\)"):
        load_agent(tmp_path / "m.zip", "rlwb/Maze-v0", {"max_size": 9})


def test_action_space_mismatch(tmp_path: Path) -> None:
    make_tiny_model("PPO").save(tmp_path / "m.zip")
    with pytest.raises(SpaceMismatchError, match="acts in Discrete\\(4\\)"):
        load_agent(tmp_path / "m.zip", "MiniGrid-Empty-5x5-v0")


def test_unknown_env_id_suggests_close_matches(tmp_path: Path) -> None:
    make_tiny_model("PPO").save(tmp_path / "m.zip")
    with pytest.raises(UnknownNameError, match="Did you mean 'rlwb/MazeCorner-v0'"):
        load_agent(tmp_path / "m.zip", "rlwb/MazeCorner-v1")


def test_unknown_zoo_name() -> None:
    with pytest.raises(UnknownNameError, match="maze-corner"):
        load_agent("zoo:maze-coner")


@pytest.mark.parametrize(
    ("shape", "policy", "extractor"),
    [
        ((6, 7, 7), "MlpPolicy", "GridCNN"),
        ((64, 64, 3), "CnnPolicy", None),
        ((8,), "MlpPolicy", None),
    ],
)
def test_auto_extractor_fits_the_observation(shape, policy, extractor) -> None:
    from rl_workbench.agents import TrainConfig

    name, kwargs = TrainConfig(env_id="rlwb/Maze-v0").policy(shape)
    assert name == policy
    cls = kwargs.get("features_extractor_class")
    assert (cls.__name__ if cls else None) == extractor


def test_records_leave_out_later_settings_only_at_the_value_older_runs_had() -> None:
    """Checkpoints and ledgers written before ``family_policy`` and ``init_from`` existed must
    still match a run that leaves them at their defaults, and must not match one that changes
    them."""
    from rl_workbench.agents.train import TrainConfig

    default = TrainConfig(env_id="rlwb/Maze-v0")
    assert "family_policy" not in default.resume_settings()
    assert "init_from" not in default.resume_settings()
    assert "total_steps" not in default.resume_settings()  # a resumed run may change it
    changed = TrainConfig(env_id="rlwb/Maze-v0", family_policy=False, init_from="a/b")
    assert changed.resume_settings()["family_policy"] is False
    assert changed.resume_settings()["init_from"] == "a/b"
    assert default.recorded(keep=("family_policy",))["family_policy"] is True
    assert default.recorded()["net_arch"] == list(default.net_arch)  # plain JSON
