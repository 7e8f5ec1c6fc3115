"""What every generator folder shares: diffusers' unet/ and scheduler/ plus generator.json.

Generators of different domains (mazes, Atari frame stacks) differ only in how states become the
UNet's input; building, saving, loading and sampling the UNet is the same and lives here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from diffusers import DDIMScheduler, UNet2DModel

from rl_workbench.errors import RLWorkbenchError
from rl_workbench.outputs import recover_folder, refuse_changed_settings, replace_folder

GENERATOR_FILE = "generator.json"
VERSION = 1


class GeneratorLoadError(RLWorkbenchError):
    """A generator folder is missing, damaged, or was fitted for other states."""

    title = "Cannot load generator"


def make_unet(
    channels: int,
    sample_size: int,
    block_out_channels: tuple[int, ...],
    in_channels: int | None = None,
    num_class_embeds: int | None = None,
) -> UNet2DModel:
    """A UNet without attention (fast on CPU), one resnet layer per block; ``in_channels``
    (default: ``channels``) is larger for a conditioned model (inpainting);
    ``num_class_embeds`` adds diffusers' class embedding (a label added to the time step's)."""
    return UNet2DModel(
        sample_size=sample_size,
        in_channels=channels if in_channels is None else in_channels,
        out_channels=channels,
        layers_per_block=1,
        block_out_channels=block_out_channels,
        down_block_types=("DownBlock2D",) * len(block_out_channels),
        up_block_types=("UpBlock2D",) * len(block_out_channels),
        add_attention=False,
        norm_num_groups=8,
        num_class_embeds=num_class_embeds,
    )


def make_scheduler(
    num_train_timesteps: int = 1000, prediction_type: str = "epsilon"
) -> DDIMScheduler:
    """DDIM over DDPM's linear schedule; ``prediction_type`` is what the UNet outputs: the added
    noise (``"epsilon"``) or the clean sample itself (``"sample"``)."""
    return DDIMScheduler(
        num_train_timesteps=num_train_timesteps, clip_sample=True, prediction_type=prediction_type
    )


def save_folder(
    folder: str | Path, unet: UNet2DModel, scheduler: DDIMScheduler, spec: dict[str, Any]
) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    unet.save_pretrained(folder / "unet")
    scheduler.save_pretrained(folder / "scheduler")
    save_folder_spec(folder, spec)


def save_folder_spec(folder: str | Path, spec: dict[str, Any]) -> None:
    """generator.json, written whole or not at all (a fit beside another may read it)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (GENERATOR_FILE + ".tmp")
    tmp.write_text(json.dumps(spec, indent=2) + "\n")
    tmp.replace(folder / GENERATOR_FILE)


def save_into_atomically(out: Path, save: Callable[[Path], None]) -> None:
    """Save a model into ``out`` so that each of its parts (``unet/``, ``vae/``, a file) appears
    whole: ``save`` fills a fresh staging folder, whose entries are then swapped in one by one.

    A kill mid-way leaves every part either old or new and whole, never half-written; the
    end-of-run checkpoint, written before, lets a rerun redo the final save.
    """
    stage = out / ".final.tmp"
    shutil.rmtree(stage, ignore_errors=True)
    save(stage)
    for entry in sorted(stage.iterdir()):
        if entry.is_dir():
            replace_folder(entry, out / entry.name)
        else:
            entry.replace(out / entry.name)
    shutil.rmtree(stage, ignore_errors=True)


def read_spec(folder: str | Path, expected_format: str | None = None) -> dict[str, Any]:
    """generator.json of a folder, checked for format and version."""
    folder = Path(folder)
    path = folder / GENERATOR_FILE
    if not path.is_file():
        raise GeneratorLoadError(
            f"{folder} is not a generator folder (no {GENERATOR_FILE}). Fit one with "
            "`rlwb fit-generator --data DIR --out GEN`."
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise GeneratorLoadError(f"{path} is damaged (JSONDecodeError: {exc}).") from None
    if (
        not isinstance(data, dict)
        or data.get("version") != VERSION
        or (expected_format is not None and data.get("format") != expected_format)
    ):
        fmt = data.get("format") if isinstance(data, dict) else None
        ver = data.get("version") if isinstance(data, dict) else None
        raise GeneratorLoadError(
            f"{path} is format {fmt!r} version {ver!r}; expected "
            f"{expected_format or 'a generator'!r} version {VERSION}."
        )
    return data


def load_weights(
    folder: str | Path, channels: int, sample_size: int, num_class_embeds: int | None = None
) -> tuple[UNet2DModel, DDIMScheduler]:
    """The UNet and scheduler of a folder, checked against the input size the spec describes."""
    folder = Path(folder)
    try:
        unet = UNet2DModel.from_pretrained(folder / "unet", low_cpu_mem_usage=False)
        scheduler = DDIMScheduler.from_pretrained(folder / "scheduler")
    except Exception as exc:  # diffusers raises OSError, EnvironmentError, safetensors errors
        raise GeneratorLoadError(
            f"The weights in {folder} cannot be read ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). Refit the generator."
        ) from None
    if unet.config.in_channels != channels or unet.config.sample_size != sample_size:
        raise GeneratorLoadError(
            f"{folder}: the UNet takes {unet.config.in_channels}x{unet.config.sample_size}² "
            f"inputs but generator.json describes {channels}x{sample_size}²."
        )
    if unet.config.num_class_embeds != num_class_embeds:
        raise GeneratorLoadError(
            f"{folder}: the UNet has {unet.config.num_class_embeds} class embeddings but "
            f"generator.json describes {num_class_embeds}."
        )
    return unet, scheduler


Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(x_t, t) -> output``: a UNet's forward with any condition already bound."""


def _as_denoiser(unet: UNet2DModel | Denoiser) -> Denoiser:
    if isinstance(unet, UNet2DModel):
        return lambda x, t: unet(x, t).sample
    return unet


def noise_prediction_loss(
    unet: UNet2DModel | Denoiser, scheduler: DDIMScheduler, x0: torch.Tensor
) -> torch.Tensor:
    """DDPM's simple loss (Ho et al. 2020, eq. 14): predict the noise added at a random step, or
    the clean sample when the scheduler's ``prediction_type`` is ``"sample"``."""
    noise = torch.randn_like(x0)
    t = torch.randint(0, scheduler.config.num_train_timesteps, (x0.shape[0],))
    x_t = scheduler.add_noise(x0, noise, t)
    target = x0 if scheduler.config.prediction_type == "sample" else noise
    return torch.nn.functional.mse_loss(_as_denoiser(unet)(x_t, t), target)


def predicted_noise(
    unet: UNet2DModel | Denoiser, scheduler: DDIMScheduler, x: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """The noise a UNet implies at ``x_t``, whichever quantity it was trained to output, so
    guidance can work in one parameterisation (``eps = (x_t - sqrt(a) x0) / sqrt(1 - a)``)."""
    out = _as_denoiser(unet)(x, t)
    if scheduler.config.prediction_type != "sample":
        return out
    alpha = scheduler.alphas_cumprod[t]
    return (x - alpha.sqrt() * out) / (1 - alpha).sqrt()


@torch.no_grad()
def denoise_from_noise(
    unet: UNet2DModel | Denoiser,
    scheduler: DDIMScheduler,
    shape: tuple[int, ...],
    steps: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """DDIM sampling from pure noise: model-space samples of ``shape``."""
    x = torch.randn(shape, generator=generator)
    scheduler.set_timesteps(steps)
    denoiser = _as_denoiser(unet)
    for t in scheduler.timesteps:
        x = scheduler.step(denoiser(x, t), t, x).prev_sample
    return x


def padded_side(side: int, multiple: int = 4) -> int:
    """The smallest multiple of ``multiple`` that holds ``side`` (the UNet halves it per level)."""
    return -(-side // multiple) * multiple


TRAINING_STATE = "training_state.json"


def write_checkpoint(
    folder: Path, save: Callable[[Path], None], step: int, settings: dict[str, Any]
) -> None:
    """Write a checkpoint beside the old one, then swap it in, so a kill never leaves half a
    checkpoint (see :func:`rl_workbench.outputs.replace_folder`).

    Args:
        folder: the checkpoint folder.
        save: fills the fresh folder it is given with the model.
        step: the optimiser steps done, recorded in ``training_state.json``.
        settings: the fit's settings, recorded beside the step so a resume can be checked
            against them (:func:`read_checkpoint`). ``training_state.json`` is written last:
            its presence marks a checkpoint written whole.
    """
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save(tmp)
    state = {"step": step, "settings": settings}
    (tmp / TRAINING_STATE).write_text(json.dumps(state, indent=2) + "\n")
    replace_folder(tmp, folder)


def dataset_identity(manifest: dict[str, Any]) -> str:
    """A short, move-proof identity of a dataset: its env, size and a hash of its manifest
    (which lists every shard), so a resume on another dataset is caught wherever it lives."""
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:12]
    n = sum(int(s.get("n", 0)) for s in manifest.get("shards", []) if isinstance(s, dict))
    return f"{manifest.get('env_id')}, {n} states, manifest sha256 {digest}"


def read_checkpoint(folder: Path, settings: dict[str, Any]) -> int | None:
    """The step of the checkpoint in ``folder`` to resume from, or None when there is none.

    Finishes a swap that a kill interrupted, then refuses a checkpoint made with other settings:
    resuming it would train one model under two sets of settings while fit.json records one.

    Raises:
        ResumeMismatchError: the checkpoint's settings differ from ``settings``.
    """
    recover_folder(folder, lambda candidate: (candidate / TRAINING_STATE).is_file())
    path = folder / TRAINING_STATE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
        step = int(state["step"])
    except (ValueError, KeyError, TypeError):
        raise GeneratorLoadError(
            f"{path} is damaged. Pass --fresh to start the fit over (it replaces the checkpoint)."
        ) from None
    refuse_changed_settings(
        folder, state.get("settings"), settings, "pass --fresh (it replaces the checkpoint)"
    )
    return step
