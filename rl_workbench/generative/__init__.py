"""Diffusion models (diffusers) of a domain's states: fit, save, load, sample."""

from .atari_generator import AtariGenerator, AtariGeneratorSpec
from .fit import FitConfig, fit_generator, load_generator_folder
from .folder import GeneratorLoadError
from .maze_generator import GeneratorSpec, MazeGenerator

__all__ = [
    "AtariGenerator",
    "AtariGeneratorSpec",
    "FitConfig",
    "GeneratorLoadError",
    "GeneratorSpec",
    "MazeGenerator",
    "fit_generator",
    "load_generator_folder",
]
