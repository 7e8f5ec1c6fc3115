"""A diffusion model of MiniGrid rooms: diffusers' UNet over one-hot rooms, fitted on the rooms an
agent met (``rlwb collect`` then ``rlwb fit-generator``).

A room is [K, width, height] one-hot over the kinds a cell can hold
(:mod:`rl_workbench.domains.minigrid_levels`), scaled to [-1, 1] and padded with wall to a side the
UNet can halve. The agent is not modelled: the counterfactual method keeps the agent of the state
it edits. The UNet outputs the clean room (``prediction_type="sample"``), as the maze generator
does on its one-hot lattice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from diffusers import DDIMScheduler, UNet2DModel

from rl_workbench.domains import minigrid_levels

from .folder import (
    GENERATOR_FILE,
    VERSION,
    GeneratorLoadError,
    make_scheduler,
    make_unet,
    noise_prediction_loss,
    padded_side,
    predicted_noise,
    read_spec,
    save_folder,
)

FORMAT = "rlwb-room-generator"
WALL = minigrid_levels.KINDS.index("wall")


@dataclass(frozen=True)
class RoomSpec:
    """What a room generator models (saved as generator.json).

    Attributes:
        env_id: the MiniGrid environment the training rooms came from.
        env_kwargs: its keyword arguments (the room's size among them).
        width, height: the rooms' size in cells.
        padded_size: side of the UNet's input (rooms padded with wall).
    """

    env_id: str
    width: int
    height: int
    padded_size: int
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return len(minigrid_levels.KINDS)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}


def to_model_space(states: list[Any], padded: int) -> torch.Tensor:
    """Rooms as [B, K, padded, padded] in [-1, 1]: one-hot over the kinds, padded with wall."""
    out = torch.full((len(states), len(minigrid_levels.KINDS), padded, padded), -1.0)
    out[:, WALL] = 1.0
    for i, state in enumerate(states):
        out[i, :, : state.width, : state.height] = 2 * minigrid_levels.level_tensor(state) - 1
    return out


class RoomGenerator:
    """A fitted (or fresh) diffusion model of MiniGrid rooms.

    Args:
        unet: the network over [K, P, P] inputs; it outputs the clean room.
        scheduler: a DDIM scheduler (the same noise schedule as training).
        spec: what the model was fitted on.
    """

    family: ClassVar[str] = "minigrid"

    def __init__(self, unet: UNet2DModel, scheduler: DDIMScheduler, spec: RoomSpec) -> None:
        self.unet = unet.eval()
        self.scheduler = scheduler
        self.spec = spec

    @classmethod
    def create(
        cls,
        spec: RoomSpec,
        block_out_channels: tuple[int, ...] = (32, 64, 64),
        num_train_timesteps: int = 1000,
    ) -> RoomGenerator:
        unet = make_unet(spec.channels, spec.padded_size, block_out_channels)
        return cls(unet, make_scheduler(num_train_timesteps, prediction_type="sample"), spec)

    @classmethod
    def spec_for(cls, env_id: str, env_kwargs: dict[str, Any], state: Any) -> RoomSpec:
        """The spec for rooms shaped like ``state`` (a MiniGridState) from ``env_id``."""
        side = padded_side(max(state.width, state.height))
        return RoomSpec(env_id, state.width, state.height, side, dict(env_kwargs))

    # -- tensors <-> rooms -----------------------------------------------------------------------
    def to_model_space(self, states: list[Any]) -> torch.Tensor:
        """[B, K, P, P] in [-1, 1]: each room one-hot, padded with wall."""
        return to_model_space(states, self.spec.padded_size)

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space rooms back to the rooms' own size."""
        return x[..., : self.spec.width, : self.spec.height]

    def predict_noise(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The noise the UNet implies at ``x_t`` (guidance works on the noise)."""
        return predicted_noise(self.unet, self.scheduler, x, t)

    def training_loss(self, states: list[Any], rng: np.random.Generator) -> torch.Tensor:
        """Whole-room denoising (``rng`` unused: torch draws the noise and steps)."""
        return noise_prediction_loss(self.unet, self.scheduler, self.to_model_space(states))

    @torch.no_grad()
    def sample_rooms(self, n: int, steps: int = 20, seed: int = 0) -> torch.Tensor:
        """``n`` rooms drawn from noise, [n, K, width, height] in model space."""
        from .folder import denoise_from_noise

        shape = (n, self.spec.channels, self.spec.padded_size, self.spec.padded_size)
        generator = torch.Generator().manual_seed(seed)
        return self.crop(denoise_from_noise(self.unet, self.scheduler, shape, steps, generator))

    def quality_note(self) -> str:
        """How often a sample read literally (the strongest kind per cell) is a closed room with
        one goal: what the model learnt before any repair."""
        rooms = self.sample_rooms(200).argmax(dim=1)
        border = torch.ones_like(rooms[0], dtype=torch.bool)
        border[1:-1, 1:-1] = False
        closed = (rooms[:, border] == WALL).all(dim=1)
        goals = (rooms == minigrid_levels.KINDS.index("goal")).flatten(1).sum(dim=1)
        share = float((closed & (goals == 1)).float().mean())
        return f" ({share:.1%} of 200 samples closed rooms with one goal before repair)"

    # -- persistence (diffusers' own format) -----------------------------------------------------
    def save_pretrained(self, folder: str | Path) -> None:
        save_folder(folder, self.unet, self.scheduler, self.spec.to_dict())

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> RoomGenerator:
        """Load a room generator folder; every failure names the folder and what is wrong."""
        from .folder import load_weights

        data = read_spec(folder, FORMAT)
        try:
            spec = RoomSpec(
                env_id=str(data["env_id"]),
                width=int(data["width"]),
                height=int(data["height"]),
                padded_size=int(data["padded_size"]),
                env_kwargs=dict(data.get("env_kwargs") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GeneratorLoadError(
                f"{Path(folder) / GENERATOR_FILE} is damaged ({exc.__class__.__name__}: {exc})."
            ) from None
        unet, scheduler = load_weights(folder, spec.channels, spec.padded_size)
        return cls(unet, scheduler, spec)
