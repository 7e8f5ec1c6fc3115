"""A diffusers model of maze levels: a ``UNet2DModel`` plus a DDIM scheduler over the spanning-tree
lattice of :mod:`maze_lattice`.

The model never sees wall pixels: it denoises each room's parent link, its tree depth (as an
angle) and where the objects sit, so a perfect maze is something it must get right between
neighbours, not a global property of a wall map (the pixel model this replaced drew a perfect maze
in 28.6% of raw samples). The folder format is diffusers' own: ``unet/`` and ``scheduler/`` written
by ``save_pretrained``, plus ``generator.json`` naming the maze configuration it was fitted on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from diffusers import DDIMScheduler, UNet2DModel

from rl_workbench.domains.maze import MazeDomain
from rl_workbench.envs.maze import MazeState, is_perfect_maze

from . import maze_lattice
from .folder import (
    GENERATOR_FILE,
    VERSION,
    GeneratorLoadError,
    load_weights,
    make_scheduler,
    make_unet,
    noise_prediction_loss,
    predicted_noise,
    read_spec,
    save_folder,
)

FORMAT = "rlwb-maze-lattice-generator"
"""Folders of the earlier pixel model (format ``rlwb-maze-generator``) are refused: refit."""


@dataclass(frozen=True)
class GeneratorSpec:
    """What a generator models (saved as generator.json).

    Attributes:
        world_size: side of the maze world.
        sizes: maze sides of the training levels.
        cheese_region: cheese region of the training levels.
        sign_mode: sign mode of the training levels.
        padded_size: side of the UNet's input (the lattice side, ``(world_size + 1) / 2``,
            rounded up to a multiple of 4).
        env_id: the environment the training states came from.
        self_conditioning: the UNet also takes its own previous clean estimate (Chen et al.
            2022, "Analog Bits": sec. 3.2), which a model of discrete codes uses to stay
            consistent across sampling steps; folders written before it existed have none.
    """

    world_size: int
    sizes: tuple[int, ...]
    cheese_region: int | None
    sign_mode: str
    padded_size: int
    env_id: str
    self_conditioning: bool = False

    @property
    def channels(self) -> int:
        """The UNet's input channels: the noisy lattice, the previous estimate when
        self-conditioned, and the room block."""
        return maze_lattice.CHANNELS * (2 if self.self_conditioning else 1) + 1

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
        block_out_channels: tuple[int, ...] = (64, 128, 128),
        num_train_timesteps: int = 1000,
    ) -> MazeGenerator:
        """A fresh, untrained model sized for ``spec``: it takes the lattice and, as one more
        input channel, the maze's room block (see :meth:`denoise`)."""
        unet = make_unet(
            maze_lattice.CHANNELS, spec.padded_size, block_out_channels, in_channels=spec.channels
        )
        # The UNet outputs the clean lattice: on one-hot links this trained many times faster
        # than predicting the noise (70% vs 3% raw perfect 15x15 mazes after ~800 and ~2,900
        # steps; BENCHMARKS.md).
        scheduler = make_scheduler(num_train_timesteps, prediction_type="sample")
        return cls(unet, scheduler, spec)

    # -- tensors <-> levels ----------------------------------------------------------------------
    def to_model_space(self, states: list[MazeState]) -> torch.Tensor:
        """[B, C, P, P] lattice encodings in [-1, 1], padded with "no room" nodes."""
        return maze_lattice.to_model_space(states, self.spec.padded_size)

    def read_raw(self, x: torch.Tensor) -> list[MazeState | None]:
        """Each sample's literal reading (see :func:`maze_lattice.read_raw`), no repair."""
        signs = self.spec.sign_mode != "none"
        side = maze_lattice.lattice_side(self.spec.world_size)
        return [
            maze_lattice.read_raw(t[:, :side, :side], self.spec.world_size, self.spec.sizes, signs)
            for t in x
        ]

    def decode(self, x: torch.Tensor) -> list[MazeState]:
        """Legal levels for a batch of model-space samples: the literal reading where it is an
        on-distribution level, else the domain's projection of what the sample spells out."""
        out = []
        for t, raw in zip(x, self.read_raw(x), strict=True):
            if raw is not None and self.domain.is_on_distribution(raw):
                out.append(raw)
                continue
            size = raw.maze_size if raw is not None else self.spec.sizes[-1]
            template = MazeState(
                walls=np.ones((self.spec.world_size,) * 2, bool),
                maze_size=size,
                mouse=(0, 0),
                cheese=(0, 0),
            )
            like = template.replace(mouse=template.start)
            out.append(maze_lattice.decode_like(t, like, self.domain)[0])
        return out

    def room_block(self, sizes: list[int]) -> torch.Tensor:
        """[B, 1, P, P]: 1 on the rooms of a maze of each size, -1 elsewhere (the condition)."""
        block = -torch.ones(len(sizes), 1, self.spec.padded_size, self.spec.padded_size)
        for k, size in enumerate(sizes):
            r = maze_lattice.rooms(size)
            block[k, 0, :r, :r] = 1.0
        return block

    def denoise(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        block: torch.Tensor,
        previous: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The model's clean-lattice estimate at ``x_t``, given the maze's room block (and, for a
        self-conditioned model, its ``previous`` estimate; none is zeros, which it was trained
        on half the time, so guidance can call it one step at a time).

        Why a condition: the maze's size is never in question where the model is used (a
        counterfactual keeps the agent's maze), and deciding it jointly with the tree made
        rooms at the block's edge name parents outside it (BENCHMARKS.md). Samples from noise
        draw the size as the level generator does, uniformly from ``spec.sizes``.
        """
        parts = [x]
        if self.spec.self_conditioning:
            parts.append(torch.zeros_like(x) if previous is None else previous)
        return self.unet(torch.cat([*parts, block], dim=1), t).sample

    def predict_noise(self, x: torch.Tensor, t: torch.Tensor, block: torch.Tensor) -> torch.Tensor:
        """The noise the model implies at ``x`` (it outputs clean lattices; see ``create``)."""
        return predicted_noise(lambda x_, t_: self.denoise(x_, t_, block), self.scheduler, x, t)

    # -- sampling --------------------------------------------------------------------------------
    def _from_noise(
        self, n: int, steps: int, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, list[int]]:
        """Samples from noise and the maze size each was conditioned on.

        Each DDIM step moves toward the model's clean estimate with every room's tree channels
        rounded to their nearest code (:func:`maze_lattice.snap_tree_codes`; 15x15: 86% -> 91%
        raw perfect mazes, BENCHMARKS.md); a self-conditioned model is handed its unrounded
        previous estimate, as in training.
        """
        shape = (n, maze_lattice.CHANNELS, self.spec.padded_size, self.spec.padded_size)
        picks = torch.randint(0, len(self.spec.sizes), (n,), generator=generator)
        sizes = [self.spec.sizes[int(i)] for i in picks]
        block = self.room_block(sizes)
        x = torch.randn(shape, generator=generator)
        self.scheduler.set_timesteps(steps)
        previous = None
        for t in self.scheduler.timesteps:
            previous = self.denoise(x, t, block, previous)
            clean = maze_lattice.snap_tree_codes(previous, block)
            x = self.scheduler.step(clean, t, x).prev_sample
        return x, sizes

    @torch.no_grad()
    def sample(
        self, n: int, steps: int = 20, generator: torch.Generator | None = None
    ) -> list[MazeState]:
        """Draw ``n`` levels from noise with ``steps`` DDIM steps, decoded to legal levels."""
        return self.decode(self._from_noise(n, steps, generator)[0])

    @torch.no_grad()
    def sample_quality(self, n: int = 500, steps: int = 20, seed: int = 0) -> dict[str, float]:
        """How often samples from noise are already what the level generator makes, read raw.

        Returns the fraction whose literal reading is a perfect maze (``raw_perfect_maze``), the
        fraction whose parent links form a tree over the room block of the size it was
        conditioned on, whatever its in-maze channel says (``raw_links_tree_given_size``: the
        fair figure for an untrained model, which cannot even echo its condition), the
        fraction that is a whole on-distribution level (``raw_on_distribution``: a perfect maze
        of an allowed size with the objects where the variant puts them), the same after the
        projection (``decoded_on_distribution``; 1.0 by construction), and the fraction of
        distinct levels among the raw readings.
        """
        g = torch.Generator().manual_seed(seed)
        x, sizes = self._from_noise(n, steps, g)
        raw = self.read_raw(x)
        perfect = [r is not None and is_perfect_maze(r) for r in raw]
        world = self.spec.world_size
        trees = [
            maze_lattice.links_form_tree(t.numpy(), size, world)
            for t, size in zip(x, sizes, strict=True)
        ]
        on_dist = [r is not None and self.domain.is_on_distribution(r) for r in raw]
        decoded = self.decode(x)
        return {
            "n": n,
            "steps": steps,
            "raw_perfect_maze": sum(perfect) / n,
            "raw_links_tree_given_size": sum(trees) / n,
            "raw_on_distribution": sum(on_dist) / n,
            "decoded_on_distribution": sum(map(self.domain.is_on_distribution, decoded)) / n,
            "distinct_fraction": len({r for r in raw if r is not None}) / n,
        }

    def quality_note(self) -> str:
        """A short note on sample quality for the command that fitted it (200 samples)."""
        quality = self.sample_quality(n=200)
        return (
            f" ({quality['raw_perfect_maze']:.1%} of 200 samples perfect mazes before repair, "
            f"{quality['raw_on_distribution']:.1%} whole on-distribution levels)"
        )

    # -- persistence (diffusers' own format) -----------------------------------------------------
    def training_loss(self, states: list[Any], rng: np.random.Generator) -> torch.Tensor:
        """Whole-lattice denoising given the room block (``rng`` unused: torch draws the noise
        and steps). A self-conditioned model gets, for a random half of the batch, its own
        estimate at the same ``x_t`` without gradient, and zeros for the rest (Analog Bits)."""
        x0 = self.to_model_space(states)
        block = x0[:, maze_lattice.IN_MAZE : maze_lattice.IN_MAZE + 1]
        if not self.spec.self_conditioning:
            return noise_prediction_loss(lambda x, t: self.denoise(x, t, block), self.scheduler, x0)

        def denoiser(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            previous = torch.zeros_like(x)
            use = torch.rand(len(x)) < 0.5
            if use.any():
                with torch.no_grad():
                    previous[use] = self.denoise(x[use], t[use], block[use])
            return self.denoise(x, t, block, previous)

        return noise_prediction_loss(denoiser, self.scheduler, x0)

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
                self_conditioning=bool(data.get("self_conditioning", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GeneratorLoadError(
                f"{Path(folder) / GENERATOR_FILE} is damaged ({exc.__class__.__name__}: {exc})."
            ) from None
        unet, scheduler = load_weights(folder, spec.channels, spec.padded_size)
        return cls(unet, scheduler, spec)
