"""A diffusers ``AutoencoderKL`` of one game's frame stacks: the ``latent`` method's latent space.

Olson et al. and Rupprecht et al. search for counterfactuals in the latent space of a learned
autoencoder or GAN; this model stands in for that family, fitted on the same stacks as the
diffusion generator and stored beside it as the folder's ``vae/`` (diffusers' pipeline layout:
``unet/``, ``scheduler/``, ``vae/``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from diffusers import AutoencoderKL

from rl_workbench.domains.atari import AtariDomain, AtariState

from .atari_generator import (
    AtariGeneratorSpec,
    model_space_to_stacks,
    read_atari_spec,
    stacks_to_model_space,
)
from .folder import GENERATOR_FILE, GeneratorLoadError, save_folder_spec

VAE_FOLDER = "vae"


class AtariAutoencoder:
    """Encode frame stacks to a small latent grid and decode them back (model space [-1, 1])."""

    def __init__(self, vae: AutoencoderKL, spec: AtariGeneratorSpec) -> None:
        self.vae = vae.eval()
        self.spec = spec
        self.domain = AtariDomain()

    @classmethod
    def create(
        cls,
        spec: AtariGeneratorSpec,
        block_out_channels: tuple[int, ...] = (16, 32, 64),
        latent_channels: int = 4,
    ) -> AtariAutoencoder:
        """Each level after the first halves the side: (16, 32, 64) gives a 22x22 latent grid."""
        levels = len(block_out_channels)
        vae = AutoencoderKL(
            in_channels=spec.frames,
            out_channels=spec.frames,
            down_block_types=("DownEncoderBlock2D",) * levels,
            up_block_types=("UpDecoderBlock2D",) * levels,
            block_out_channels=block_out_channels,
            layers_per_block=1,
            latent_channels=latent_channels,
            norm_num_groups=8,
            sample_size=spec.padded_size,
            mid_block_add_attention=False,
        )
        return cls(vae, spec)

    def to_model_space(self, states: list[AtariState]) -> torch.Tensor:
        return stacks_to_model_space(states, self.spec)

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        return model_space_to_stacks(x, self.spec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean: deterministic, so a search starts from the state's own code."""
        return self.vae.encode(x).latent_dist.mean

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(z).sample

    @torch.no_grad()
    def reconstruct(self, states: list[AtariState]) -> list[AtariState]:
        x = self.decode(self.encode(self.to_model_space(states)))
        return [self.domain.decode(t) for t in self.crop(x)]

    def save_pretrained(self, folder: str | Path) -> None:
        folder = Path(folder)
        self.vae.save_pretrained(folder / VAE_FOLDER)
        if not (folder / GENERATOR_FILE).is_file():
            save_folder_spec(folder, self.spec.to_dict())

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> AtariAutoencoder:
        spec = read_atari_spec(folder)
        path = Path(folder) / VAE_FOLDER
        if not path.is_dir():
            raise GeneratorLoadError(
                f"{folder} has no autoencoder ({VAE_FOLDER}/). Fit one with "
                f"`rlwb fit-autoencoder --data DIR --out {folder}` (DIR: the dataset the "
                "generator was fitted on)."
            )
        try:
            vae = AutoencoderKL.from_pretrained(path, low_cpu_mem_usage=False)
        except Exception as exc:  # diffusers raises OSError, EnvironmentError, safetensors errors
            raise GeneratorLoadError(
                f"The autoencoder weights in {path} cannot be read ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}). Refit the autoencoder."
            ) from None
        if vae.config.in_channels != spec.frames or vae.config.sample_size < spec.size:
            raise GeneratorLoadError(
                f"{path}: the autoencoder takes {vae.config.in_channels}x"
                f"{vae.config.sample_size}² inputs but generator.json describes "
                f"{spec.frames} frames of {spec.size}²."
            )
        # Its padding is its own: it halves the side fewer times than the UNet beside it.
        spec = replace(spec, padded_size=int(vae.config.sample_size))
        return cls(vae, spec)
