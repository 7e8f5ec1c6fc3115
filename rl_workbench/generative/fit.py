"""Fit a generator on a dataset of states: DDPM noise-prediction training, with checkpoints.

Reads top to bottom: config, data, model (fresh or resumed), the training loop (Ho et al. 2020,
eq. 14: predict the noise added at a random timestep), periodic checkpoints, final save.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import UNet2DModel
from tqdm.auto import tqdm

from rl_workbench.data import Dataset
from rl_workbench.domains import make_env
from rl_workbench.domains.registry import family_of
from rl_workbench.envs.maze import MazeEnv
from rl_workbench.errors import DatasetError, InvalidArgumentError
from rl_workbench.outputs import write_text_atomically

from .atari_generator import FORMAT as ATARI_FORMAT
from .atari_generator import AtariGenerator
from .atari_inpainter import FORMAT as INPAINTER_FORMAT
from .atari_inpainter import AtariInpainter, AtariInpainterSpec
from .folder import (
    dataset_identity,
    padded_side,
    read_checkpoint,
    read_spec,
    save_into_atomically,
    write_checkpoint,
)
from .maze_generator import GeneratorSpec, MazeGenerator
from .maze_lattice import lattice_side
from .room_generator import FORMAT as ROOM_FORMAT
from .room_generator import RoomGenerator

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint"
DEFAULT_WIDTHS: dict[str, tuple[int, ...]] = {
    # The spanning-tree lattice is small (8x8 for a 15x15 world): width is cheap there and a
    # tree of 64 rooms needs it (BENCHMARKS.md, "A generator that models mazes").
    "maze": (64, 128, 128),
    # 84x84 stacks: a narrow first level keeps a CPU step near one second at batch 16; the
    # fourth level gives the receptive field a whole frame needs.
    "atari": (16, 32, 64, 64),
    # 32x32 windows: three levels reach across the window; a step costs a fraction of a
    # whole-stack one, so batches are larger.
    "atari-inpainting": (32, 64, 64),
    # MiniGrid rooms are small (8x8 pads to 8): three levels see the whole room.
    "minigrid": (32, 64, 64),
}
DEFAULT_BATCH: dict[str, int] = {
    "maze": 64,
    "atari": 16,
    "atari-inpainting": 64,
    "minigrid": 64,
}
DEFAULT_CHECKPOINT_EVERY = 100
"""Optimiser steps between checkpoints: a maze fit takes about 0.1 s a step and an Atari one
about 1 s on CPU (BENCHMARKS.md), so a crash loses seconds on mazes and under two minutes on
Atari; a save of a ~1M-parameter UNet takes well under a second."""


@dataclass(frozen=True)
class FitConfig:
    """Settings of one generator fit.

    Attributes:
        steps: optimiser steps.
        batch_size: states per step; None picks the family's default (``DEFAULT_BATCH``).
        learning_rate: AdamW step size.
        block_out_channels: UNet widths per resolution (no attention: fast on CPU); None picks
            the family's default (``DEFAULT_WIDTHS``).
        seed: seeds initialisation, batching and noise.
        checkpoint_every: steps between checkpoints (0: only the end-of-run one); see
            ``DEFAULT_CHECKPOINT_EVERY``.
        unique: train on distinct levels only (datasets repeat a level along an episode).
        inpainting: Atari only: fit a mask-conditioned inpainting model of stack windows
            (``atari_inpainter.py``) instead of a model of whole stacks.
        cosine_decay: anneal the step size to zero over ``steps`` (a function of the step, so a
            resumed fit continues the same schedule). The maze generators use it: their
            samples are read exactly (one wrong depth breaks a maze), and the last, small steps
            are what make the outputs precise.
        self_conditioning: mazes only: the UNet also takes its own previous estimate
            (:class:`MazeGenerator`'s ``self_conditioning``); about 1.25x the time per step.
    """

    steps: int = 3000
    batch_size: int | None = None
    learning_rate: float = 1e-3
    block_out_channels: tuple[int, ...] | None = None
    seed: int = 0
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    unique: bool = True
    inpainting: bool = False
    cosine_decay: bool = False
    self_conditioning: bool = False

    def __post_init__(self) -> None:
        if self.steps < 1 or (self.batch_size is not None and self.batch_size < 1):
            raise InvalidArgumentError("steps and batch_size must be positive.")
        if self.checkpoint_every < 0:
            raise InvalidArgumentError(
                f"checkpoint_every must be 0 or positive, got {self.checkpoint_every}."
            )


def fit_generator(
    data: str | Path,
    out: str | Path,
    config: FitConfig = FitConfig(),
    *,
    progress: bool = True,
    resume: bool = True,
) -> MazeGenerator | AtariGenerator | AtariInpainter | RoomGenerator:
    """Fit a generator on the states of a dataset folder (maze, MiniGrid or Atari) and save it
    to ``out``.

    With ``resume`` the fit continues from ``out/checkpoint`` (weights and step; the optimiser's
    moments restart, which costs a few dozen steps of warm-up, not correctness), provided it was
    made with the same dataset and settings; otherwise the fit is refused before any work.
    Checkpoints (the end-of-run one included) and the final folder are written atomically.

    Raises:
        ResumeMismatchError: the checkpoint was made with another dataset or other settings.
    """
    # 1. Data: the dataset's states, as the agent saw them (kept compact; encoded per batch).
    dataset = Dataset.open(data)
    env_id = dataset.manifest["env_id"]
    family = family_of(env_id)
    if family not in NEW_GENERATORS:
        raise DatasetError(
            f"{data} holds {env_id} states; generators exist for maze (rlwb/Maze*), MiniGrid "
            "(MiniGrid-*, rlwb/MiniGrid-*) and Atari (ALE/*) datasets."
        )
    kind = family
    if config.inpainting:
        if family != "atari":
            raise DatasetError(
                f"{data} holds {env_id} states; --inpainting models Atari frame stacks only."
            )
        kind = "atari-inpainting"
    if config.self_conditioning and family != "maze":
        raise DatasetError(
            f"{data} holds {env_id} states; --self-conditioning is for maze generators only."
        )
    widths = config.block_out_channels or DEFAULT_WIDTHS[kind]
    batch_size = config.batch_size or DEFAULT_BATCH[kind]
    settings = {
        "dataset": dataset_identity(dataset.manifest),
        "batch_size": batch_size,
        "block_out_channels": list(widths),
        "learning_rate": config.learning_rate,
        "seed": config.seed,
        "unique": config.unique,
        **({"inpainting": True} if config.inpainting else {}),
        # the annealed step size is a function of the step and the total: resuming under
        # another total would change the schedule mid-fit
        **({"cosine_decay": True, "steps": config.steps} if config.cosine_decay else {}),
        **({"self_conditioning": True} if config.self_conditioning else {}),
    }
    out = Path(out)
    ckpt = out / CHECKPOINT
    resume_step = read_checkpoint(ckpt, settings) if resume else None  # checked before work
    states: list[Any] = dataset.states()
    if config.unique:
        states = list(dict.fromkeys(states))
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    # 2. Model: resumed from the last checkpoint, or fresh.
    start_step = 0
    if resume_step is not None:
        generator = load_generator_folder(ckpt)
        start_step = resume_step
        logger.info("resuming generator fit from step %d", start_step)
    else:
        generator = NEW_GENERATORS[kind](data, dataset, widths, config)
    unet: UNet2DModel = generator.unet.train()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=config.learning_rate)

    # 3. Train: predict the noise at a random timestep (DDPM's simple loss).
    started = time.perf_counter()
    bar = tqdm(
        total=config.steps,
        initial=start_step,
        desc="fitting generator",
        unit="step",
        disable=not progress,
    )
    losses: list[float] = []
    for step in range(start_step, config.steps):
        if config.cosine_decay:
            for group in optimizer.param_groups:
                group["lr"] = (
                    config.learning_rate * 0.5 * (1 + math.cos(math.pi * step / config.steps))
                )
        idx = rng.integers(0, len(states), batch_size)
        loss = generator.training_loss([states[int(i)] for i in idx], rng)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}", refresh=False)
        if config.checkpoint_every and (step + 1) % config.checkpoint_every == 0:
            write_checkpoint(ckpt, generator.save_pretrained, step + 1, settings)
    bar.close()

    # 4. The end-of-run checkpoint (a kill during the final save loses no step), then the
    # generator in diffusers' format, each part swapped in whole, with the fit's record.
    if config.steps > start_step and not (
        config.checkpoint_every and config.steps % config.checkpoint_every == 0
    ):
        write_checkpoint(ckpt, generator.save_pretrained, config.steps, settings)
    generator.unet.eval()
    save_into_atomically(out, generator.save_pretrained)
    record = {
        "config": {**asdict(config), "block_out_channels": list(widths), "batch_size": batch_size},
        "dataset": str(Path(data).resolve()),
        "dataset_identity": settings["dataset"],
        "resumed_from_step": start_step,
        "training_levels": len(states),
        "final_loss": float(np.mean(losses[-100:])) if losses else None,
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_text_atomically(out / "fit.json", json.dumps(record, indent=2) + "\n")
    return generator


def _maze_spec(data: str | Path, dataset: Dataset, config: FitConfig) -> GeneratorSpec:
    env = make_env(dataset.manifest["env_id"], dataset.manifest.get("env_kwargs")).unwrapped
    if not isinstance(env, MazeEnv):  # a maze dataset always names a maze env; guard anyway
        raise DatasetError(f"{data} names {dataset.manifest['env_id']}, which is not a maze env.")
    return GeneratorSpec(
        world_size=env.world_size,
        sizes=env.sizes,
        cheese_region=env.cheese_region,
        sign_mode=env.sign_mode,
        padded_size=padded_side(lattice_side(env.world_size)),
        env_id=dataset.manifest["env_id"],
        self_conditioning=config.self_conditioning,
    )


NEW_GENERATORS: dict[str, Callable[[str | Path, Dataset, tuple[int, ...], FitConfig], Any]] = {
    "maze": lambda data, dataset, widths, config: MazeGenerator.create(
        _maze_spec(data, dataset, config), widths
    ),
    "atari": lambda data, dataset, widths, config: AtariGenerator.for_env(
        dataset.manifest["env_id"], widths
    ),
    "atari-inpainting": lambda data, dataset, widths, config: AtariInpainter.create(
        AtariInpainterSpec(env_id=dataset.manifest["env_id"]), widths
    ),
    "minigrid": lambda data, dataset, widths, config: RoomGenerator.create(
        RoomGenerator.spec_for(
            dataset.manifest["env_id"],
            dataset.manifest.get("env_kwargs") or {},
            dataset.states()[0],
        ),
        widths,
    ),
}
"""A fresh generator sized for a dataset's states, by domain family (keys: the families that
have generators)."""


def load_generator_folder(
    folder: str | Path,
) -> MazeGenerator | AtariGenerator | AtariInpainter | RoomGenerator:
    """Load any generator folder, choosing the class from generator.json's format."""
    fmt = read_spec(folder).get("format")
    if fmt == ROOM_FORMAT:
        return RoomGenerator.from_pretrained(folder)
    if fmt == ATARI_FORMAT:
        return AtariGenerator.from_pretrained(folder)
    if fmt == INPAINTER_FORMAT:
        return AtariInpainter.from_pretrained(folder)
    return MazeGenerator.from_pretrained(folder)
