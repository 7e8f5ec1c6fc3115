"""The maze family: procgen's Maze with Langosco et al.'s cheese-region and sign variants."""

from .env import ACTION_NAMES, PROCGEN_ACTIONS, MazeEnv
from .generation import generate_level, kruskal_walls
from .render import CHANNELS, COLORS, render_picture, rgb_observation, symbolic_observation
from .state import (
    ARRAY_FIELDS,
    MOVES,
    MazeState,
    bfs_distances,
    fits_variant,
    is_on_distribution,
    is_perfect_maze,
    shortest_path,
)

__all__ = [
    "ACTION_NAMES",
    "ARRAY_FIELDS",
    "CHANNELS",
    "COLORS",
    "MOVES",
    "PROCGEN_ACTIONS",
    "MazeEnv",
    "MazeState",
    "bfs_distances",
    "fits_variant",
    "generate_level",
    "is_on_distribution",
    "is_perfect_maze",
    "kruskal_walls",
    "render_picture",
    "rgb_observation",
    "shortest_path",
    "symbolic_observation",
]
