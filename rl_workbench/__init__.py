"""RL Workbench: study trained reinforcement-learning agents.

Importing the package registers the maze environments with gymnasium (``rlwb/Maze-v0`` and its
variants); nothing heavier than gymnasium and numpy is imported here.
"""

from importlib.metadata import PackageNotFoundError, version

from rl_workbench import envs as envs  # registers the environments

try:
    __version__ = version("rl-workbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "envs"]
