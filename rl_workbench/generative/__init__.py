"""Diffusion models (diffusers) of a domain's states: fit, save, load, sample."""

from .fit import FitConfig, fit_generator
from .folder import GeneratorLoadError
from .maze_generator import GeneratorSpec, MazeGenerator

__all__ = ["FitConfig", "GeneratorLoadError", "GeneratorSpec", "MazeGenerator", "fit_generator"]
