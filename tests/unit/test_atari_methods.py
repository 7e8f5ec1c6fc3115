"""Counterfactual methods on frame stacks: local diffusion edits, latent search, realism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.counterfactual.latent import LatentMethod
from rl_workbench.counterfactual.stack_diffusion import StackDiffusionMethod
from rl_workbench.counterfactual.targets import parse_target
from rl_workbench.domains.atari import AtariDomain, AtariState, sparsity
from rl_workbench.domains.realism import realism_accuracy
from rl_workbench.generative import AtariAutoencoder, AtariGenerator, AtariGeneratorSpec
from tests.helpers import BrightSpotAgent, dark_stack

SPEC = AtariGeneratorSpec(env_id="ALE/Breakout-v5", padded_size=88)


def test_diffusion_edits_stacks_only_where_the_agent_looks() -> None:
    agent = BrightSpotAgent()
    torch.manual_seed(0)
    generator = AtariGenerator.create(SPEC, block_out_channels=(8, 8))
    method = StackDiffusionMethod(generator=generator)
    state = AtariState(dark_stack())
    result = method.explain(state, agent, AtariDomain(), parse_target("any", agent.action_names))
    assert result.valid and agent.action_names[result.counterfactual_action] == "FIRE"
    cf = result.counterfactual_state
    assert isinstance(cf, AtariState) and cf.obs.dtype == np.uint8
    # Sparsity is bounded by the largest region an attempt may edit.
    assert sparsity(state, cf) >= 1 - max(r for *_, r in method.stack_attempts)
    rows, cols = np.nonzero((cf.obs != state.obs).any(axis=-1))
    assert rows.size > 0
    # Saliency is smoothed with a 5x5 window: changes stay within 2 pixels of the patch.
    assert rows.min() >= 38 and rows.max() <= 47 and cols.min() >= 38 and cols.max() <= 47
    calls = sum(round(s * method.steps) for s, *_ in method.stack_attempts)
    assert 0 < result.generator_calls <= calls


def test_diffusion_minimality_keeps_fewest_changes() -> None:
    """Of a proposal that lights the whole patch plus stray pixels, only what is needed is kept."""
    agent = BrightSpotAgent()
    generator = AtariGenerator.create(SPEC, block_out_channels=(8, 8))
    method = StackDiffusionMethod(generator=generator, keep_fractions=(0.1, 0.5, 1.0))
    state = AtariState(dark_stack())
    proposal = state.obs.copy()
    proposal[40:46, 40:46, :] = 255  # 36 positions, needed: any ~3 of them
    proposal[70:80, 0:10, :] = 1  # 100 small stray changes, never needed
    from rl_workbench.counterfactual.base import Budget, Query

    query = Query(
        state=state,
        agent=agent,
        domain=AtariDomain(),
        target=parse_target("any", agent.action_names),
        original_action=0,
        original_value=None,
        rng=torch.Generator().manual_seed(0),
    )
    kept = method._minimal_stack(query, AtariState(proposal), Budget())
    assert kept is not None
    changed = (kept.obs != state.obs).any(axis=-1)
    assert changed.sum() == round(0.1 * 136)  # the 10% share: all from the patch, largest first
    assert not changed[70:80, 0:10].any()


def test_latent_search_meets_the_target_and_counts_calls() -> None:
    agent = BrightSpotAgent()
    torch.manual_seed(0)
    autoencoder = AtariAutoencoder.create(SPEC, block_out_channels=(8, 8))
    method = LatentMethod(autoencoder=autoencoder, steps=30, lr=0.5)
    state = AtariState(dark_stack())
    result = method.explain(state, agent, AtariDomain(), parse_target("any", agent.action_names))
    assert result.counterfactual_state is not None
    assert result.counterfactual_state.obs.dtype == np.uint8
    # The judged action is the agent's action on the saved, quantised stack.
    obs = torch.from_numpy(result.counterfactual_state.obs[None].astype(np.float32))
    assert int(agent.action_probs(obs).argmax()) == result.counterfactual_action
    assert result.valid
    assert result.generator_calls >= 2  # one encoder call, at least one decoder call


def test_latent_needs_an_autoencoder() -> None:
    from rl_workbench.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="fit-autoencoder"):
        LatentMethod()


def test_realism_separates_noisy_stacks_and_not_identical_ones() -> None:
    originals = [AtariState(dark_stack(seed)) for seed in range(40)]
    rng = np.random.default_rng(0)
    noisy = [
        AtariState(np.clip(s.obs + rng.integers(0, 60, s.obs.shape), 0, 255).astype(np.uint8))
        for s in originals
    ]
    assert realism_accuracy(originals, noisy) >= 0.9
    assert realism_accuracy(originals, originals) == pytest.approx(0.5)
    assert realism_accuracy(originals[:5], noisy[:5]) is None


def _rlwb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rl_workbench", "--quiet", "--threads", "1", *args],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def breakout_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny Breakout agent (anyone's SB3 PPO) and 16 states it met."""
    from stable_baselines3 import PPO

    from tests.unit.test_atari import _sb3_stack

    folder = tmp_path_factory.mktemp("latent")
    model = PPO("CnnPolicy", _sb3_stack("ALE/Breakout-v5", 0), n_steps=16, batch_size=16)
    model.save(folder / "agent.zip")
    data = folder / "data"
    proc = _rlwb(
        "collect", "--agent", str(folder / "agent.zip"), "--env", "ALE/Breakout-v5",
        "--n-states", "16", "--out", str(data),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return folder / "agent.zip", data


def test_fit_autoencoder_then_explain_with_latent(
    breakout_data: tuple[Path, Path], tmp_path: Path
) -> None:
    agent, data = breakout_data
    gen = tmp_path / "gen"
    base = ["--agent", str(agent), "--env", "ALE/Breakout-v5", "--method", "latent", "--n", "2"]
    missing = _rlwb("explain", *base, "--generator", str(gen), "--out", str(tmp_path / "x"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "not a generator folder" in missing.stderr
    fit = _rlwb(
        "fit-autoencoder", "--data", str(data), "--out", str(gen), "--steps", "2",
        "--batch-size", "2",
    )  # fmt: skip
    assert fit.returncode == 0 and "Autoencoder written to" in fit.stdout, fit.stderr
    assert json.loads((gen / "generator.json").read_text())["env_id"] == "ALE/Breakout-v5"
    out = tmp_path / "cf"
    proc = _rlwb("explain", *base, "--generator", str(gen), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["method"] == "latent"
    assert report["summary"]["generator_calls"] >= 2 and "sparsity" in report["summary"]
    # A generator folder without vae/ names the command that adds one.
    from rl_workbench.generative.folder import save_folder_spec

    bare = tmp_path / "bare"
    save_folder_spec(bare, SPEC.to_dict())
    no_vae = _rlwb("explain", *base, "--generator", str(bare), "--out", str(tmp_path / "y"))
    assert no_vae.returncode == 2 and "fit-autoencoder --data" in no_vae.stderr


def test_fit_autoencoder_refuses_a_maze_dataset(tiny_dataset_dir: Path, tmp_path: Path) -> None:
    proc = _rlwb("fit-autoencoder", "--data", str(tiny_dataset_dir), "--out", str(tmp_path / "g"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Atari datasets" in proc.stderr


def test_autoencoder_fit_resumes_from_its_checkpoint(
    breakout_data: tuple[Path, Path], tmp_path: Path
) -> None:
    from rl_workbench.generative import AutoencoderFitConfig, fit_autoencoder

    _agent, data = breakout_data
    gen = tmp_path / "gen"
    short = AutoencoderFitConfig(
        steps=4, batch_size=2, block_out_channels=(8, 8), checkpoint_every=2
    )
    fit_autoencoder(data, gen, short, progress=False)
    record = json.loads((gen / "vae" / "fit.json").read_text())
    assert record["training_stacks"] <= 16 and record["config"]["steps"] == 4
    # Interrupted after a checkpoint: a new fit starts from it.
    from rl_workbench.data import Dataset
    from rl_workbench.generative.fit_autoencoder import (
        CHECKPOINT,
        _save_checkpoint,
        resume_settings,
    )
    from rl_workbench.generative.folder import write_checkpoint

    model = AtariAutoencoder.from_pretrained(gen)
    longer = AutoencoderFitConfig(steps=5, batch_size=2, block_out_channels=(8, 8))
    settings = resume_settings(Dataset.open(data).manifest, longer)
    write_checkpoint(gen / CHECKPOINT, _save_checkpoint(model), 3, settings)
    resumed = fit_autoencoder(data, gen, longer, progress=False)
    assert isinstance(resumed, AtariAutoencoder)
    assert json.loads((gen / "vae" / "fit.json").read_text())["resumed_from_step"] == 3
    assert not (gen / CHECKPOINT).exists()  # a finished fit leaves no checkpoint behind


def test_autoencoder_fit_refuses_to_resume_with_other_settings(
    breakout_data: tuple[Path, Path], tmp_path: Path
) -> None:
    from rl_workbench.data import Dataset
    from rl_workbench.errors import ResumeMismatchError
    from rl_workbench.generative import AutoencoderFitConfig, fit_autoencoder
    from rl_workbench.generative.atari_generator import AtariGeneratorSpec
    from rl_workbench.generative.fit_autoencoder import (
        CHECKPOINT,
        _save_checkpoint,
        resume_settings,
    )
    from rl_workbench.generative.folder import write_checkpoint

    _agent, data = breakout_data
    gen = tmp_path / "gen"
    first = AutoencoderFitConfig(steps=4, batch_size=2, block_out_channels=(8, 8))
    spec = AtariGeneratorSpec(env_id="ALE/Breakout-v5", padded_size=84)
    model = AtariAutoencoder.create(spec, first.block_out_channels)
    settings = resume_settings(Dataset.open(data).manifest, first)
    write_checkpoint(gen / CHECKPOINT, _save_checkpoint(model), 2, settings)
    other = AutoencoderFitConfig(steps=4, batch_size=4, block_out_channels=(8, 8))
    with pytest.raises(ResumeMismatchError, match=r"batch_size 2 \(now 4\).*--fresh"):
        fit_autoencoder(data, gen, other, progress=False)
    assert not (gen / "vae").exists()  # refused before any work
