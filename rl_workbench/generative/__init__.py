"""Diffusion models (diffusers) of a domain's states: fit, save, load, sample."""

from .fit import FitConfig, fit_generator
from .maze_generator import GeneratorLoadError, GeneratorSpec, MazeGenerator

__all__ = ["FitConfig", "GeneratorLoadError", "GeneratorSpec", "MazeGenerator", "fit_generator"]
