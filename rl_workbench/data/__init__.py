"""Roll agents out and keep what they saw: datasets, trajectories, vector fields."""

from .collect import CollectConfig, collect
from .dataset import FIELDS, MAZE_FIELDS, Dataset, DatasetWriter
from .rollout import Trajectory, run_episode
from .vector_field import VectorField, vector_field

__all__ = [
    "FIELDS",
    "MAZE_FIELDS",
    "CollectConfig",
    "Dataset",
    "DatasetWriter",
    "Trajectory",
    "VectorField",
    "collect",
    "run_episode",
    "vector_field",
]
