"""How each family of environments is built, observed and named (mazes, MiniGrid, Atari).

The domains themselves (states as tensors and back, edits, pictures) are one module per family,
named in one place: :mod:`rl_workbench.domains.registry`.
"""

from .environments import action_names, check_env_id, env_family, known_env_ids, make_env

__all__ = ["action_names", "check_env_id", "env_family", "known_env_ids", "make_env"]
