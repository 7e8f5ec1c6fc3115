"""Diffusion models (diffusers) of a domain's states: fit, save, load, sample."""

from .atari_autoencoder import AtariAutoencoder
from .atari_generator import AtariGenerator, AtariGeneratorSpec
from .atari_inpainter import AtariInpainter, AtariInpainterSpec
from .fit import FitConfig, fit_generator, load_generator_folder
from .fit_autoencoder import AutoencoderFitConfig, fit_autoencoder
from .folder import GeneratorLoadError
from .maze_generator import GeneratorSpec, MazeGenerator
from .room_generator import RoomGenerator, RoomSpec

__all__ = [
    "AtariAutoencoder",
    "AtariGenerator",
    "AtariGeneratorSpec",
    "AtariInpainter",
    "AtariInpainterSpec",
    "AutoencoderFitConfig",
    "FitConfig",
    "GeneratorLoadError",
    "GeneratorSpec",
    "MazeGenerator",
    "RoomGenerator",
    "RoomSpec",
    "fit_autoencoder",
    "fit_generator",
    "load_generator_folder",
]
