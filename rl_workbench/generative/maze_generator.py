"""A diffusers model of maze levels: a ``UNet2DModel`` plus a DDIM scheduler over the maze
domain's one-hot channels.

Levels are encoded as the agent sees them (``[6, W, W]`` one-hot), mapped to [-1, 1] and padded
with "out of maze" cells to a side the UNet's downsampling divides. The folder format is diffusers'
own: ``unet/`` and ``scheduler/`` written by ``save_pretrained``, plus ``generator.json`` naming
the maze configuration the model was fitted on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from diffusers import DDIMScheduler, UNet2DModel

from rl_workbench.domains.maze import OUT, MazeDomain
from rl_workbench.envs.maze import MazeState

from .folder import (
    GENERATOR_FILE,
    VERSION,
    GeneratorLoadError,
    denoise_from_noise,
    load_weights,
    make_scheduler,
    make_unet,
    noise_prediction_loss,
    read_spec,
    save_folder,
)

FORMAT = "rlwb-maze-generator"


@dataclass(frozen=True)
class GeneratorSpec:
    """What a generator models (saved as generator.json).

    Attributes:
        world_size: side of the maze world.
        sizes: maze sides of the training levels.
        cheese_region: cheese region of the training levels.
        sign_mode: sign mode of the training levels.
        padded_size: side of the UNet's input (world_size rounded up to a multiple of 4).
        env_id: the environment the training states came from.
    """

    world_size: int
    sizes: tuple[int, ...]
    cheese_region: int | None
    sign_mode: str
    padded_size: int
    env_id: str

    @property
    def domain(self) -> MazeDomain:
        return MazeDomain(self.world_size, self.sizes, self.cheese_region, self.sign_mode)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self), "sizes": list(self.sizes)}


class MazeGenerator:
    """A fitted (or fresh) diffusion model of maze levels.

    Args:
        unet: the noise-prediction network over [C, P, P] inputs.
        scheduler: a DDIM scheduler (the same noise schedule as training).
        spec: what the model was fitted on.
    """

    family: ClassVar[str] = "maze"
    """The domain family it models (the domain registry's key)."""

    def __init__(self, unet: UNet2DModel, scheduler: DDIMScheduler, spec: GeneratorSpec) -> None:
        self.unet = unet.eval()
        self.scheduler = scheduler
        self.spec = spec
        self.domain = spec.domain

    @classmethod
    def create(
        cls,
        spec: GeneratorSpec,
        block_out_channels: tuple[int, ...] = (32, 64, 64),
        num_train_timesteps: int = 1000,
    ) -> MazeGenerator:
        """A fresh, untrained model sized for ``spec``."""
        unet = make_unet(spec.domain.channels, spec.padded_size, block_out_channels)
        scheduler = make_scheduler(num_train_timesteps)
        return cls(unet, scheduler, spec)

    # -- tensors <-> levels ----------------------------------------------------------------------
    def to_model_space(self, states: list[MazeState]) -> torch.Tensor:
        """[B, C, P, P] in [-1, 1]: one-hot levels, padded with out-of-maze cells."""
        x = torch.stack([self.domain.level_tensor(s) for s in states])
        return self.pad(x) * 2 - 1

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        p = self.spec.padded_size - self.spec.world_size
        if p == 0:
            return x
        out = torch.zeros(x.shape[0], x.shape[1], self.spec.padded_size, self.spec.padded_size)
        out[:, OUT] = 1.0
        out[:, :, : self.spec.world_size, : self.spec.world_size] = x
        return out

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, W, W] from model-space [B, C, P, P], mapped back to [0, 1]."""
        w = self.spec.world_size
        return (x[:, :, :w, :w] + 1) / 2

    def decode(self, x: torch.Tensor, maze_size: int | None = None) -> list[MazeState]:
        """Legal levels nearest to a batch of model-space tensors."""
        return [self.domain.decode(t, maze_size) for t in self.crop(x)]

    # -- sampling --------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(
        self, n: int, steps: int = 20, generator: torch.Generator | None = None
    ) -> list[MazeState]:
        """Draw ``n`` levels from noise with ``steps`` DDIM steps, decoded to legal levels."""
        shape = (n, self.domain.channels, self.spec.padded_size, self.spec.padded_size)
        x = denoise_from_noise(self.unet, self.scheduler, shape, steps, generator)
        return self.decode(x)

    @torch.no_grad()
    def sample_quality(self, n: int = 500, steps: int = 20, seed: int = 0) -> dict[str, float]:
        """How often samples from noise are already on-distribution levels before any repair.

        Returns the fraction on-distribution read raw (``raw_on_distribution``), after the
        domain's projection (``decoded_on_distribution``; 1.0 by construction), and the fraction
        of distinct levels among the raw ones.
        """
        g = torch.Generator().manual_seed(seed)
        shape = (n, self.domain.channels, self.spec.padded_size, self.spec.padded_size)
        x = denoise_from_noise(self.unet, self.scheduler, shape, steps, g)
        cropped = self.crop(x)
        raw = [self.domain.read_raw(t) for t in cropped]
        ok = [r is not None and self.domain.is_on_distribution(r) for r in raw]
        decoded = [self.domain.decode(t) for t in cropped]
        distinct = len({r for r in raw if r is not None})
        return {
            "n": n,
            "steps": steps,
            "raw_on_distribution": sum(ok) / n,
            "decoded_on_distribution": sum(map(self.domain.is_on_distribution, decoded)) / n,
            "distinct_fraction": distinct / n,
        }

    def quality_note(self) -> str:
        """A short note on sample quality for the command that fitted it (200 samples)."""
        quality = self.sample_quality(n=200)
        return (
            f" ({quality['raw_on_distribution']:.1%} of 200 samples on-distribution before repair)"
        )

    # -- persistence (diffusers' own format) -----------------------------------------------------
    def training_loss(self, states: list[Any], rng: np.random.Generator) -> torch.Tensor:
        """Whole-state noise prediction (``rng`` unused: torch draws the noise and steps)."""
        return noise_prediction_loss(self.unet, self.scheduler, self.to_model_space(states))

    def save_pretrained(self, folder: str | Path) -> None:
        save_folder(folder, self.unet, self.scheduler, self.spec.to_dict())

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> MazeGenerator:
        """Load a maze generator folder; every failure names the folder and what is wrong."""
        data = read_spec(folder, FORMAT)
        try:
            spec = GeneratorSpec(
                world_size=int(data["world_size"]),
                sizes=tuple(data["sizes"]),
                cheese_region=data["cheese_region"],
                sign_mode=data["sign_mode"],
                padded_size=int(data["padded_size"]),
                env_id=data["env_id"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GeneratorLoadError(
                f"{Path(folder) / GENERATOR_FILE} is damaged ({exc.__class__.__name__}: {exc})."
            ) from None
        unet, scheduler = load_weights(folder, spec.domain.channels, spec.padded_size)
        return cls(unet, scheduler, spec)
