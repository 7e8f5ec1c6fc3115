"""Gymnasium environments added by RL Workbench, installed as ``rl_workbench.envs``.

Importing this module (which ``import rl_workbench`` does) registers the maze family:

=========================  ===============================================================
id                         level distribution
=========================  ===============================================================
``rlwb/Maze-v0``           cheese anywhere, no sign (the "uniform" test distribution)
``rlwb/MazeCorner-v0``     cheese exactly in the top-right corner (``cheese_region=1``)
``rlwb/MazeSign-v0``       cheese anywhere, a green sign on the cheese (sign training)
``rlwb/MazeSignAway-v0``   cheese anywhere, the sign placed away from it (sign test)
=========================  ===============================================================

Any keyword of :class:`MazeEnv` can be passed to ``gymnasium.make`` to vary them, e.g.
``gymnasium.make("rlwb/Maze-v0", cheese_region=5, obs_mode="rgb")``.
"""

from gymnasium.envs.registration import register, registry

MAZE_ENTRY_POINT = "rl_workbench.envs.maze:MazeEnv"

MAZE_VARIANTS: dict[str, dict[str, object]] = {
    "rlwb/Maze-v0": {},
    "rlwb/MazeCorner-v0": {"cheese_region": 1},
    "rlwb/MazeSign-v0": {"sign": "on_cheese"},
    "rlwb/MazeSignAway-v0": {"sign": "away"},
}
"""Registered maze ids and the keyword arguments that define each."""


def register_envs() -> None:
    """Register the maze family with gymnasium (idempotent)."""
    for env_id, kwargs in MAZE_VARIANTS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=MAZE_ENTRY_POINT, kwargs=dict(kwargs))


register_envs()
