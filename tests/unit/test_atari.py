"""Atari through stable-baselines3's standard pipeline: the real 4-frame stack, any SB3 agent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.agents import load_agent
from rl_workbench.data import CollectConfig, collect
from rl_workbench.domains import action_names, make_env
from rl_workbench.errors import SpaceMismatchError

GAME = "ALE/Breakout-v5"


def _sb3_stack(env_id: str, seed: int):
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env

    gym.register_envs(ale_py)
    from stable_baselines3.common.vec_env import VecFrameStack

    return VecFrameStack(make_atari_env(env_id, n_envs=1, seed=seed), 4)


def test_single_env_pipeline_equals_sb3_vec_frame_stack() -> None:
    env = make_env("ALE/SpaceInvaders-v5")
    venv = _sb3_stack("ALE/SpaceInvaders-v5", seed=3)
    obs, _ = env.reset(seed=3)
    vobs = venv.reset()
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8
    np.testing.assert_array_equal(obs, vobs[0])
    rng = np.random.default_rng(0)
    for _ in range(150):
        a = int(rng.integers(6))
        obs, _, terminated, truncated, _ = env.step(a)
        vobs, *_ = venv.step(np.array([a]))
        if terminated or truncated:  # a lost life ends the episode; the VecEnv resets itself
            obs, _ = env.reset()
        np.testing.assert_array_equal(obs, vobs[0])
    # The stack is a real history, not one frame copied four times.
    assert any(not np.array_equal(obs[..., i], obs[..., 3]) for i in range(3))
    assert action_names(env) == ("NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE")


@pytest.fixture(scope="module")
def breakout_agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Anyone's SB3 PPO agent trained with the standard pipeline (untrained weights suffice)."""
    from stable_baselines3 import PPO

    venv = _sb3_stack(GAME, seed=0)
    model = PPO("CnnPolicy", venv, n_steps=16, batch_size=16, seed=0, device="cpu")
    path = tmp_path_factory.mktemp("byo") / "breakout_ppo.zip"
    model.save(path)
    return path


def test_bring_your_own_atari_agent(breakout_agent: Path, tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    loaded = load_agent(breakout_agent, GAME)
    assert loaded.agent.action_names == ("NOOP", "FIRE", "RIGHT", "LEFT")
    env = make_env(GAME)
    obs = np.stack([env.reset(seed=i)[0] for i in range(3)])
    model = PPO.load(breakout_agent, device="cpu")
    with torch.no_grad():
        expected = model.policy.get_distribution(
            model.policy.obs_to_tensor(obs.transpose(0, 3, 1, 2))[0]
        ).distribution.probs
        ours = loaded.agent.action_probs(torch.as_tensor(obs))
    torch.testing.assert_close(ours, expected)
    ds = collect(loaded, tmp_path / "ds", CollectConfig(n_states=24, n_envs=2), progress=False)
    saved = ds.arrays("obs", "probs")
    assert saved["obs"].shape == (24, 84, 84, 4) and saved["obs"].dtype == np.uint8
    # The saved observation is the agent's exact input: feeding it back gives the saved probs.
    with torch.no_grad():
        again = loaded.agent.action_probs(torch.as_tensor(saved["obs"][:5])).numpy()
    np.testing.assert_allclose(again, saved["probs"][:5], atol=1e-6)


def test_agent_of_another_game_is_refused(breakout_agent: Path) -> None:
    with pytest.raises(SpaceMismatchError, match=r"acts in Discrete\(4\).*Discrete\(6\)"):
        load_agent(breakout_agent, "ALE/SpaceInvaders-v5")


@pytest.mark.parametrize("method", ["pixel", "nearest"])
def test_atari_counterfactuals_are_saved_and_can_be_rechecked(
    breakout_agent: Path, tmp_path: Path, method: str
) -> None:
    import json

    from rl_workbench.counterfactual import ExplainConfig, run_explain

    loaded = load_agent(breakout_agent, GAME)
    out = tmp_path / method
    config = ExplainConfig(method=method, n=3, pool_size=10, pictures=True)
    summary = run_explain(loaded, out, config, progress=False)
    report = json.loads((out / "report.json").read_text())
    assert {"proximity", "sparsity"} <= set(summary)
    for key in ("proximity", "sparsity"):
        assert summary[key] is None or 0.0 <= summary[key] <= 1.0
    # Issue 12: how many distinct states came back, and legality, per item and in the summary.
    made = [item for item in report["items"] if item["counterfactual_action"] is not None]
    assert summary["distinct_counterfactuals"] <= len(made)
    assert (summary["distinct_counterfactuals"] > 0) == bool(made)
    assert "distinct counterfactual state(s)" in (out / "report.md").read_text()
    assert all(
        set(item["legality"]) >= {"padding", "grey_levels", "time", "total"} for item in made
    )
    if method == "pixel":  # an edit, decoded legal
        assert summary["violating"] == 0.0 and summary["violations_total"] == 0.0
    for k, item in enumerate(report["items"]):
        saved = np.load(out / "items" / f"item-{k:04d}.npz")
        assert saved["original"].dtype == np.uint8 and saved["original"].shape == (84, 84, 4)
        if "counterfactual" in saved:
            with torch.no_grad():
                p = loaded.agent.action_probs(torch.as_tensor(saved["counterfactual"][None]))
            assert loaded.agent.action_names[int(p.argmax())] == item["counterfactual_action"]
        assert (out / "items" / f"item-{k:04d}.png").is_file()
        from PIL import Image

        with Image.open(out / "items" / f"item-{k:04d}.gif") as gif:
            assert gif.n_frames == 4  # the whole stack, oldest to newest


def _rlwb(*args: str):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "rl_workbench", "--quiet", "--threads", "1", *args],
        capture_output=True,
        text=True,
    )


def test_explain_on_atari_refuses_search(breakout_agent: Path, tmp_path: Path) -> None:
    proc = _rlwb(
        "explain",
        "--agent",
        str(breakout_agent),
        "--env",
        GAME,
        "--method",
        "search",
        "--out",
        str(tmp_path / "x"),
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--method search is not available" in proc.stderr
    assert "diffusion, latent, objects, nearest, pixel" in proc.stderr


def test_a_method_without_its_model_names_the_two_commands(
    breakout_agent: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A game with no shipped model (Pong): the message names the commands that make one."""
    from stable_baselines3 import PPO

    from rl_workbench.counterfactual.explain import generator_commands, load_method_model
    from rl_workbench.domains import atari
    from rl_workbench.errors import InvalidArgumentError

    pong = tmp_path / "pong_ppo.zip"
    PPO("CnnPolicy", _sb3_stack("ALE/Pong-v5", seed=0), n_steps=16, batch_size=16).save(pong)
    proc = _rlwb(
        "explain", "--agent", str(pong), "--env", "ALE/Pong-v5", "--method", "latent",
        "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "No generator exists for ALE/Pong-v5" in proc.stderr
    assert "rlwb collect --agent" in proc.stderr and "rlwb fit-autoencoder --data" in proc.stderr
    assert "or objects" not in proc.stderr  # Pong's RAM layout is not known
    # Where the layout is known, the message offers objects too (both such games ship every
    # model, so one is taken away here to reach the message).
    monkeypatch.delitem(atari.SHIPPED_STACK_MODELS, GAME)
    breakout = load_agent("zoo:breakout-ppo")
    with pytest.raises(InvalidArgumentError, match="No generator exists for ALE/Breakout-v5") as e:
        load_method_model("latent", breakout, None, "zoo:breakout-ppo")
    assert "or objects, which edits the game's own objects" in str(e.value)

    # A game with no shipped generator is told to fit the inpainting kind for diffusion.
    assert "--inpainting" in generator_commands("agent.zip", "ALE/Pong-v5")
    maze_gen = _rlwb(
        "explain",
        "--agent",
        str(breakout_agent),
        "--env",
        GAME,
        "--method",
        "diffusion",
        "--generator",
        "zoo:maze-generator",
        "--out",
        str(tmp_path / "y"),
    )
    assert maze_gen.returncode == 2 and "was fitted on rlwb/Maze-v0, not ALE/Breakout-v5" in (
        maze_gen.stderr
    )


def test_the_two_commands_make_a_generator_that_explain_uses(
    breakout_agent: Path, tmp_path: Path
) -> None:
    """collect -> fit-generator -> explain --method diffusion, on a tiny model of a second game."""
    import json

    from rl_workbench.generative import AtariGenerator, FitConfig, fit_generator

    data, gen = tmp_path / "data", tmp_path / "gen"
    assert (
        _rlwb(
            "collect",
            "--agent",
            str(breakout_agent),
            "--env",
            GAME,
            "--n-states",
            "16",
            "--out",
            str(data),
        ).returncode
        == 0
    )
    proc = _rlwb(
        "fit-generator",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "cli-gen"),
        "--steps",
        "1",
        "--batch-size",
        "2",
    )
    assert proc.returncode == 0 and "Generator written to" in proc.stdout, proc.stderr
    fitted = fit_generator(
        data, gen, FitConfig(steps=3, batch_size=4, block_out_channels=(8, 8)), progress=False
    )
    assert isinstance(fitted, AtariGenerator) and fitted.spec.env_id == GAME
    assert isinstance(AtariGenerator.from_pretrained(gen), AtariGenerator)
    out = tmp_path / "cf"
    proc = _rlwb(
        "explain",
        "--agent",
        str(breakout_agent),
        "--env",
        GAME,
        "--method",
        "diffusion",
        "--generator",
        str(gen),
        "--n",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["generator_calls"] > 0 and "proximity" in report["summary"]
    assert (out / "items" / "item-0000.npz").is_file()
    # The inpainting kind: fitted by the same command with --inpainting, used by the same method.
    inpainter = tmp_path / "inpainter"
    proc = _rlwb(
        "fit-generator", "--data", str(data), "--out", str(inpainter), "--inpainting",
        "--steps", "2", "--batch-size", "2", "--widths", "8,8",
    )  # fmt: skip
    assert proc.returncode == 0 and "Generator written to" in proc.stdout, proc.stderr
    assert json.loads((inpainter / "generator.json").read_text())["format"] == (
        "rlwb-atari-inpainter"
    )
    proc = _rlwb(
        "explain", "--agent", str(breakout_agent), "--env", GAME, "--method", "diffusion",
        "--generator", str(inpainter), "--n", "2", "--out", str(tmp_path / "cf-inpaint"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "cf-inpaint" / "report.json").read_text())
    assert report["summary"]["generator_calls"] > 0


def test_evaluation_scores_whole_games_unclipped(breakout_agent: Path) -> None:
    """An Atari evaluation episode is a whole game (all lives), scored without clipping."""
    from rl_workbench.agents import evaluate

    loaded = load_agent(breakout_agent, GAME)
    # Replay what evaluate() does for one episode, counting the lives lost along the way.
    env = make_env(GAME)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    steps = lives_lost = 0
    while True:
        obs, _, terminated, truncated, info = env.step(int(loaded.agent.act(obs, rng)[0]))
        steps += 1
        if "episode" in info:
            score = info["episode"]["r"]
            break
        if terminated or truncated:
            lives_lost += 1
            obs, _ = env.reset()
    assert lives_lost == 4  # Breakout's fifth life ends the game, reported by the Monitor
    result = evaluate(loaded.agent, GAME, episodes=1, seed=0)
    assert result.mean_steps == steps and result.mean_return == score


def test_training_an_atari_agent_records_the_random_baseline(tmp_path: Path) -> None:
    from rl_workbench.agents import TrainConfig, train_ppo

    config = TrainConfig(
        env_id=GAME,
        total_steps=128,
        n_envs=2,
        n_steps=64,
        batch_size=64,
        n_epochs=1,
        extractor="nature-cnn",
        net_arch=(),
        eval_episodes=1,
        checkpoint_every=0,
    )
    result = train_ppo(config, tmp_path / "run", name="tiny-breakout", progress=False)
    assert set(result.card.evaluation) == {"sampled", "greedy", "random"}
    assert result.card.observation_shape == (84, 84, 4)
    assert load_agent(tmp_path / "run").agent.action_names == ("NOOP", "FIRE", "RIGHT", "LEFT")
