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

and the goal rooms (:mod:`.goal_room`, minigrid's own env class; the workbench treats them as
MiniGrid levels):

=================================  =========================================================
id                                 level distribution
=================================  =========================================================
``rlwb/MiniGrid-GoalCorner-v0``    the goal in the bottom-right corner (MiniGrid's Empty)
``rlwb/MiniGrid-GoalRoom-v0``      the goal anywhere
``rlwb/MiniGrid-GoalBall-v0``      the goal anywhere, a blue ball beside it (distractor)
``rlwb/MiniGrid-GoalBallAway-v0``  the goal anywhere, the ball anywhere
=================================  =========================================================

Their keywords (``size``, ``goal``, ``ball``, ``max_steps``) vary them the same way; minigrid is
imported only when one is made.
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


GOAL_ROOM_ENTRY_POINT = "rl_workbench.envs.goal_room:GoalRoomEnv"

GOAL_ROOM_VARIANTS: dict[str, dict[str, object]] = {
    "rlwb/MiniGrid-GoalCorner-v0": {"goal": "corner"},
    "rlwb/MiniGrid-GoalRoom-v0": {"goal": "anywhere"},
    "rlwb/MiniGrid-GoalBall-v0": {"goal": "anywhere", "ball": "beside_goal"},
    "rlwb/MiniGrid-GoalBallAway-v0": {"goal": "anywhere", "ball": "anywhere"},
}
"""Registered goal-room ids: training (goal in the corner; ball beside the goal) and the
matching tests and controls (goal anywhere; ball anywhere)."""


def register_envs() -> None:
    """Register the maze family and the goal rooms with gymnasium (idempotent)."""
    for env_id, kwargs in MAZE_VARIANTS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=MAZE_ENTRY_POINT, kwargs=dict(kwargs))
    for env_id, kwargs in GOAL_ROOM_VARIANTS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=GOAL_ROOM_ENTRY_POINT, kwargs=dict(kwargs))


register_envs()
