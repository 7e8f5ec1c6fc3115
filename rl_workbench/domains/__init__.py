"""How each family of environments is built, observed and named (mazes, MiniGrid)."""

from .environments import action_names, check_env_id, env_family, known_env_ids, make_env

__all__ = ["action_names", "check_env_id", "env_family", "known_env_ids", "make_env"]
