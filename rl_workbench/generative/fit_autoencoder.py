"""Fit the ``latent`` method's autoencoder on a dataset of Atari frame stacks, with checkpoints.

Reads top to bottom like ``fit.py``: data, model (fresh or resumed), the loop (reconstruction
MSE plus a small KL term, the usual VAE objective with a weak prior so codes stay sharp),
checkpoints, final save into the generator folder's ``vae/``.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from rl_workbench.data import Dataset
from rl_workbench.domains.registry import family_of
from rl_workbench.errors import DatasetError, InvalidArgumentError
from rl_workbench.outputs import replace_folder

from .atari_autoencoder import VAE_FOLDER, AtariAutoencoder
from .atari_generator import AtariGeneratorSpec
from .folder import (
    GENERATOR_FILE,
    dataset_identity,
    padded_side,
    read_checkpoint,
    save_folder_spec,
    write_checkpoint,
)

CHECKPOINT = "vae-checkpoint"
AUTOENCODER_FAMILIES = ("atari",)
"""Domain families whose states the latent method's autoencoder models (frame stacks)."""
DEFAULT_CHECKPOINT_EVERY = 100
"""Optimiser steps between checkpoints: a step takes about one second on CPU (BENCHMARKS.md:
2,000 steps in 32 min), so a crash loses under two minutes; a save of the ~650k-parameter
autoencoder takes well under a second."""


@dataclass(frozen=True)
class AutoencoderFitConfig:
    """Settings of one autoencoder fit.

    Attributes:
        steps: optimiser steps.
        batch_size: stacks per step.
        learning_rate: AdamW step size.
        block_out_channels: encoder/decoder widths; each level after the first halves the side.
        kl_weight: weight of the KL term (small: the latent search wants faithful codes).
        seed: seeds initialisation and batching.
        checkpoint_every: steps between checkpoints (0: only the end-of-run one); see
            ``DEFAULT_CHECKPOINT_EVERY``.
    """

    steps: int = 2000
    batch_size: int = 16
    learning_rate: float = 1e-3
    block_out_channels: tuple[int, ...] = (16, 32, 64)
    kl_weight: float = 1e-6
    seed: int = 0
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise InvalidArgumentError("steps and batch_size must be positive.")
        if self.checkpoint_every < 0:
            raise InvalidArgumentError(
                f"checkpoint_every must be 0 or positive, got {self.checkpoint_every}."
            )


def fit_autoencoder(
    data: str | Path,
    out: str | Path,
    config: AutoencoderFitConfig = AutoencoderFitConfig(),
    *,
    progress: bool = True,
    resume: bool = True,
) -> AtariAutoencoder:
    """Fit an AutoencoderKL on an Atari dataset's stacks and save it as ``out/vae``.

    With ``resume`` the fit continues from ``out/vae-checkpoint`` when it was made with the same
    dataset and settings; otherwise it is refused before any work. Checkpoints (the end-of-run
    one included) and ``vae/`` are written atomically; the checkpoint is removed once ``vae/``
    is in place.

    Raises:
        ResumeMismatchError: the checkpoint was made with another dataset or other settings.
    """
    dataset = Dataset.open(data)
    env_id = dataset.manifest["env_id"]
    if family_of(env_id) not in AUTOENCODER_FAMILIES:
        raise DatasetError(
            f"{data} holds {env_id} states; the autoencoder (for the latent method) is fitted on "
            "Atari datasets (ALE/*). Mazes are edited by the search and diffusion methods."
        )
    settings = resume_settings(dataset.manifest, config)
    out = Path(out)
    ckpt = out / CHECKPOINT
    resume_step = read_checkpoint(ckpt, settings) if resume else None  # checked before work
    states = list(dict.fromkeys(dataset.states()))
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    start_step = 0
    if resume_step is not None:
        model = AtariAutoencoder.from_pretrained(ckpt)
        start_step = resume_step
    else:
        levels = 2 ** (len(config.block_out_channels) - 1)
        spec = AtariGeneratorSpec(env_id=env_id, padded_size=padded_side(84, levels))
        model = AtariAutoencoder.create(spec, config.block_out_channels)
    vae = model.vae.train()
    optimizer = torch.optim.AdamW(vae.parameters(), lr=config.learning_rate)

    started = time.perf_counter()
    bar = tqdm(
        total=config.steps,
        initial=start_step,
        desc="fitting autoencoder",
        unit="step",
        disable=not progress,
    )
    losses: list[float] = []
    for step in range(start_step, config.steps):
        idx = rng.integers(0, len(states), config.batch_size)
        x = model.to_model_space([states[int(i)] for i in idx])
        posterior = vae.encode(x).latent_dist
        reconstruction = vae.decode(posterior.sample()).sample
        mse = torch.nn.functional.mse_loss(reconstruction, x)
        loss = mse + config.kl_weight * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(mse.detach()))
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(mse=f"{np.mean(losses[-50:]):.5f}", refresh=False)
        if config.checkpoint_every and (step + 1) % config.checkpoint_every == 0:
            write_checkpoint(ckpt, _save_checkpoint(model), step + 1, settings)
    bar.close()

    # The end-of-run checkpoint (a kill during the final save loses no step), then vae/ with
    # its fit.json, staged whole and swapped in.
    if config.steps > start_step and not (
        config.checkpoint_every and config.steps % config.checkpoint_every == 0
    ):
        write_checkpoint(ckpt, _save_checkpoint(model), config.steps, settings)
    model.vae.eval()
    stage = out / ".vae.tmp"
    shutil.rmtree(stage, ignore_errors=True)
    model.save_pretrained(stage)
    record = {
        "config": {**asdict(config), "block_out_channels": list(config.block_out_channels)},
        "dataset": str(Path(data).resolve()),
        "training_stacks": len(states),
        "resumed_from_step": start_step,
        "final_mse": float(np.mean(losses[-100:])) if losses else None,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (stage / VAE_FOLDER / "fit.json").write_text(json.dumps(record, indent=2) + "\n")
    replace_folder(stage / VAE_FOLDER, out / VAE_FOLDER)
    if not (out / GENERATOR_FILE).is_file():  # a generator fitted beside it may have written it
        save_folder_spec(out, model.spec.to_dict())
    shutil.rmtree(stage, ignore_errors=True)
    shutil.rmtree(ckpt, ignore_errors=True)
    return model


def resume_settings(manifest: dict[str, Any], config: AutoencoderFitConfig) -> dict[str, Any]:
    """What a checkpoint must have been fitted with for a fit to resume it: the dataset (by
    :func:`~rl_workbench.generative.folder.dataset_identity`) and every setting that shapes the
    model, but not ``steps`` or ``checkpoint_every``, which a resumed fit may change."""
    return {
        "dataset": dataset_identity(manifest),
        "batch_size": config.batch_size,
        "block_out_channels": list(config.block_out_channels),
        "kl_weight": config.kl_weight,
        "learning_rate": config.learning_rate,
        "seed": config.seed,
    }


def _save_checkpoint(model: AtariAutoencoder) -> Callable[[Path], None]:
    def save(folder: Path) -> None:
        model.vae.save_pretrained(folder / VAE_FOLDER)
        save_folder_spec(folder, model.spec.to_dict())

    return save
