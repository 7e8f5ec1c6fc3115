"""A diffusers model of Atari frame stacks, as the agent sees them ([84, 84, 4] uint8).

The UNet works channels-first on the stack scaled to [-1, 1] and padded with black to a side its
downsampling divides (84 -> 88). ``crop`` gives back the agent's own input layout (channels last,
0-255), so guidance and judging see exactly what the agent would.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from diffusers import DDIMScheduler, UNet2DModel

from rl_workbench.domains.atari import AtariDomain, AtariState

from .folder import (
    GENERATOR_FILE,
    VERSION,
    GeneratorLoadError,
    denoise_from_noise,
    load_weights,
    make_scheduler,
    make_unet,
    noise_prediction_loss,
    padded_side,
    read_spec,
    save_folder,
)

FORMAT = "rlwb-atari-generator"


@dataclass(frozen=True)
class AtariGeneratorSpec:
    """What an Atari generator models (saved as generator.json).

    Attributes:
        env_id: the game the training stacks came from.
        size: frame side (84 in the standard pipeline).
        frames: frames per stack (4).
        padded_size: the UNet's input side.
    """

    env_id: str
    size: int = 84
    frames: int = 4
    padded_size: int = 88

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}


def stacks_to_model_space(states: list[AtariState], spec: AtariGeneratorSpec) -> torch.Tensor:
    """[B, k, P, P] in [-1, 1], black padding at the bottom and right."""
    x = torch.from_numpy(np.stack([s.obs for s in states])).float()  # [B, H, W, k]
    x = x.permute(0, 3, 1, 2) / 127.5 - 1.0
    p = spec.padded_size
    out = torch.full((x.shape[0], x.shape[1], p, p), -1.0)
    out[:, :, : spec.size, : spec.size] = x
    return out


def model_space_to_stacks(x: torch.Tensor, spec: AtariGeneratorSpec) -> torch.Tensor:
    """The agent's input layout [B, H, W, k], values 0-255 (float, not yet quantised)."""
    s = spec.size
    return ((x[:, :, :s, :s] + 1.0) * 127.5).permute(0, 2, 3, 1)


def read_atari_spec(folder: str | Path) -> AtariGeneratorSpec:
    """generator.json of an Atari generator folder, as a spec."""
    data = read_spec(folder, FORMAT)
    try:
        return AtariGeneratorSpec(
            env_id=data["env_id"],
            size=int(data["size"]),
            frames=int(data["frames"]),
            padded_size=int(data["padded_size"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GeneratorLoadError(
            f"{Path(folder) / GENERATOR_FILE} is damaged ({exc.__class__.__name__}: {exc})."
        ) from None


class AtariGenerator:
    """A fitted (or fresh) diffusion model of one game's frame stacks."""

    family: ClassVar[str] = "atari"
    """The domain family it models (the domain registry's key)."""

    def __init__(
        self, unet: UNet2DModel, scheduler: DDIMScheduler, spec: AtariGeneratorSpec
    ) -> None:
        self.unet = unet.eval()
        self.scheduler = scheduler
        self.spec = spec
        self.domain = AtariDomain()

    @classmethod
    def create(
        cls,
        spec: AtariGeneratorSpec,
        block_out_channels: tuple[int, ...] = (16, 32, 64, 64),
        num_train_timesteps: int = 1000,
    ) -> AtariGenerator:
        if spec.padded_size % (2 ** (len(block_out_channels) - 1)):
            raise ValueError(
                f"padded_size {spec.padded_size} must be divisible by "
                f"{2 ** (len(block_out_channels) - 1)} for {len(block_out_channels)} UNet levels"
            )
        unet = make_unet(spec.frames, spec.padded_size, block_out_channels)
        return cls(unet, make_scheduler(num_train_timesteps), spec)

    @classmethod
    def for_env(
        cls, env_id: str, block_out_channels: tuple[int, ...] = (16, 32, 64, 64)
    ) -> AtariGenerator:
        levels = 2 ** (len(block_out_channels) - 1)
        return cls.create(
            AtariGeneratorSpec(env_id=env_id, padded_size=padded_side(84, levels)),
            block_out_channels,
        )

    # -- tensors <-> stacks ----------------------------------------------------------------------
    def to_model_space(self, states: list[AtariState]) -> torch.Tensor:
        return stacks_to_model_space(states, self.spec)

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        return model_space_to_stacks(x, self.spec)

    def decode(self, x: torch.Tensor) -> list[AtariState]:
        """Quantised uint8 stacks from model-space tensors."""
        return [self.domain.decode(t) for t in self.crop(x)]

    @torch.no_grad()
    def sample(
        self, n: int, steps: int = 20, generator: torch.Generator | None = None
    ) -> list[AtariState]:
        shape = (n, self.spec.frames, self.spec.padded_size, self.spec.padded_size)
        return self.decode(denoise_from_noise(self.unet, self.scheduler, shape, steps, generator))

    # -- persistence -----------------------------------------------------------------------------
    def quality_note(self) -> str:
        """No cheap quality figure exists for frame stacks (realism is judged by a classifier in
        the model card), so the fitting command adds nothing."""
        return ""

    def training_loss(self, states: list[Any], rng: np.random.Generator) -> torch.Tensor:
        """Whole-state noise prediction (``rng`` unused: torch draws the noise and steps)."""
        return noise_prediction_loss(self.unet, self.scheduler, self.to_model_space(states))

    def save_pretrained(self, folder: str | Path) -> None:
        save_folder(folder, self.unet, self.scheduler, self.spec.to_dict())

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> AtariGenerator:
        spec = read_atari_spec(folder)
        unet, scheduler = load_weights(folder, spec.frames, spec.padded_size)
        return cls(unet, scheduler, spec)
