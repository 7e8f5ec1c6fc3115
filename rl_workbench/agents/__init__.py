"""Agents seen through one interface, their training, and the shipped zoo.

Imports torch and stable-baselines3 (never diffusers or textual).
"""

from .base import Agent, choose_actions
from .card import ModelCard, library_versions
from .evaluation import EvaluationResult, evaluate
from .sb3 import ALGORITHMS, SB3Agent, detect_algorithm, load_sb3_model
from .train import TrainConfig, TrainResult, train_ppo
from .zoo import (
    RECIPES,
    ZOO_DIR,
    LoadedAgent,
    ZooRecipe,
    build_zoo_agent,
    load_agent,
    resolve_agent_path,
    zoo_folder,
    zoo_names,
)

__all__ = [
    "ALGORITHMS",
    "RECIPES",
    "ZOO_DIR",
    "Agent",
    "EvaluationResult",
    "LoadedAgent",
    "ModelCard",
    "SB3Agent",
    "TrainConfig",
    "TrainResult",
    "ZooRecipe",
    "build_zoo_agent",
    "choose_actions",
    "detect_algorithm",
    "evaluate",
    "library_versions",
    "load_agent",
    "load_sb3_model",
    "resolve_agent_path",
    "train_ppo",
    "zoo_folder",
    "zoo_names",
]
