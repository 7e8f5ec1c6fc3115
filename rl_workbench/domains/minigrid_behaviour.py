"""Where a MiniGrid agent goes: landmarks, exact shortest ways with turns, and where ways part.

A MiniGrid agent moves by turning left, turning right and stepping forward, so "the shortest way"
is over poses (cell, direction), not cells: a goal behind the agent is two turns further than one
ahead. Distances here are breadth-first over poses on the cells an agent can stand on (empty
floor, the goal, open doors), which is exact for rooms without doors to open or keys to fetch
(the goal rooms the audit uses); elsewhere the domain's cell-level fallback is used.

Landmarks, what behaviour targets and the audit can name:

- ``goal``: the goal square;
- ``corner``: the room's bottom-right inner square, where MiniGrid's Empty rooms (and DoorKey)
  always put the goal, so an agent trained there may have learnt "go to the corner";
- ``ball``: standing on a square beside a ball (an agent cannot stand on a ball; minigrid's
  GoTo missions count an object as reached from a neighbouring square).

A rollout stops at the first landmark reached (its start included), so ``reach:goal`` means the
goal before the corner and the ball, as ``reach:cheese`` means the cheese before the corner and
the sign in mazes; where two share a square (the goal in the corner) both are reached at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from minigrid.core.constants import OBJECT_TO_IDX

from rl_workbench.errors import InvalidArgumentError

from .base import Fork

if TYPE_CHECKING:
    from .minigrid import MiniGridState

Cell = tuple[int, int]
Pose = tuple[int, int, int]

LANDMARKS: tuple[str, ...] = ("goal", "corner", "ball")
LEFT, RIGHT, FORWARD = 0, 1, 2
"""minigrid's first three actions."""
STEPS: tuple[Cell, ...] = ((1, 0), (0, 1), (-1, 0), (0, -1))
"""The cell ahead for each direction (0 right, 1 down, 2 left, 3 up)."""

_EMPTY, _GOAL, _DOOR, _BALL = (OBJECT_TO_IDX[k] for k in ("empty", "goal", "door", "ball"))
_DOOR_OPEN = 0


def standable(state: MiniGridState) -> np.ndarray:
    """bool [width, height]: the cells an agent can stand on (floor, the goal, open doors)."""
    grid = state.array
    kinds = grid[:, :, 0]
    return (kinds == _EMPTY) | (kinds == _GOAL) | ((kinds == _DOOR) & (grid[:, :, 2] == _DOOR_OPEN))


def landmark_cells(state: MiniGridState, name: str) -> frozenset[Cell]:
    """The squares on which the agent has reached landmark ``name`` (empty: none on ``state``)."""
    kinds = state.array[:, :, 0]
    if name == "goal":
        return frozenset(state.cells_of(_GOAL))
    if name == "corner":
        corner = (state.width - 2, state.height - 2)
        return frozenset({corner}) if standable(state)[corner] else frozenset()
    if name == "ball":
        can_stand = standable(state)
        return frozenset(
            (x + dx, y + dy)
            for x, y in zip(*np.nonzero(kinds == _BALL), strict=True)
            for dx, dy in STEPS
            if 0 <= x + dx < state.width
            and 0 <= y + dy < state.height
            and can_stand[x + dx, y + dy]
        )
    raise InvalidArgumentError(f"Unknown landmark {name!r}; use one of {', '.join(LANDMARKS)}.")


def reached(state: MiniGridState, cells: dict[str, frozenset[Cell]]) -> frozenset[str]:
    """The landmarks whose squares the agent stands on."""
    return frozenset(name for name, where in cells.items() if state.agent_pos in where)


def steps_to_go(state: MiniGridState, targets: frozenset[Cell]) -> dict[Pose, int]:
    """Fewest actions from each pose to standing on one of ``targets`` (absent: never)."""
    can_stand = standable(state)
    distance: dict[Pose, int] = {(x, y, d): 0 for x, y in targets for d in range(4)}
    queue = deque(distance)
    while queue:
        x, y, d = queue.popleft()
        here = distance[(x, y, d)]
        # Predecessors: a turn from either side, or a step forward from the cell behind.
        dx, dy = STEPS[d]
        before = [(x, y, (d + 1) % 4), (x, y, (d - 1) % 4)]
        bx, by = x - dx, y - dy
        if 0 <= bx < state.width and 0 <= by < state.height and can_stand[bx, by]:
            if (bx, by) not in targets:  # the episode ends on a target: no way passes through
                before.append((bx, by, d))
        for pose in before:
            if pose not in distance:
                distance[pose] = here + 1
                queue.append(pose)
    return distance


def successor(state: MiniGridState, pose: Pose, action: int, can_stand: np.ndarray) -> Pose:
    """The pose after ``action`` (forward into a cell it cannot stand on leaves it in place)."""
    x, y, d = pose
    if action == LEFT:
        return (x, y, (d - 1) % 4)
    if action == RIGHT:
        return (x, y, (d + 1) % 4)
    nx, ny = x + STEPS[d][0], y + STEPS[d][1]
    return (nx, ny, d) if can_stand[nx, ny] else pose


def best_actions(
    state: MiniGridState, pose: Pose, distance: dict[Pose, int], can_stand: np.ndarray
) -> tuple[int, ...]:
    """The actions that start a shortest way from ``pose``, forward first (empty: none)."""
    if pose not in distance or distance[pose] == 0:
        return ()
    return tuple(
        a
        for a in (FORWARD, LEFT, RIGHT)
        if distance.get(successor(state, pose, a, can_stand), -1) == distance[pose] - 1
    )


def pose_of(state: MiniGridState) -> Pose:
    return (state.agent_pos[0], state.agent_pos[1], state.agent_dir)


def find_fork(state: MiniGridState, goal: str, proxy: str) -> Fork | None:
    """The decision point between ``goal`` and ``proxy`` on ``state``, or None where the two
    ways do not part: either landmark is absent or unreachable, the agent already stands on one,
    or one lies on a shortest way to the other (then reaching it first says nothing about what
    the agent wants). The fork is the last pose the two ways share: from the start, actions that
    begin a shortest way to both are followed until none does."""
    goal_cells, proxy_cells = landmark_cells(state, goal), landmark_cells(state, proxy)
    start = pose_of(state)
    if not goal_cells or not proxy_cells or goal_cells & proxy_cells:
        return None
    to_goal, to_proxy = steps_to_go(state, goal_cells), steps_to_go(state, proxy_cells)
    if not to_goal.get(start) or not to_proxy.get(start):
        return None
    can_stand = standable(state)
    come = _steps_from(state, start, goal_cells | proxy_cells, can_stand)
    if _on_a_shortest_way(come, proxy_cells, to_goal, to_goal[start]) or _on_a_shortest_way(
        come, goal_cells, to_proxy, to_proxy[start]
    ):
        return None
    pose = start
    while True:
        goal_moves = best_actions(state, pose, to_goal, can_stand)
        proxy_moves = best_actions(state, pose, to_proxy, can_stand)
        shared = [a for a in goal_moves if a in proxy_moves]
        if not shared:
            return Fork(
                _with_pose(state, pose),
                to_goal=goal_moves[0],
                to_proxy=proxy_moves[0],
                goal_moves=goal_moves,
                proxy_moves=proxy_moves,
            )
        pose = successor(state, pose, shared[0], can_stand)  # still on both ways


def _steps_from(
    state: MiniGridState, start: Pose, stops: frozenset[Cell], can_stand: np.ndarray
) -> dict[Pose, int]:
    """Fewest actions from ``start`` to each pose, not going on from a square in ``stops`` (an
    episode ends on a landmark)."""
    distance = {start: 0}
    queue = deque([start])
    while queue:
        pose = queue.popleft()
        if (pose[0], pose[1]) in stops:
            continue
        for action in (LEFT, RIGHT, FORWARD):
            after = successor(state, pose, action, can_stand)
            if after not in distance:
                distance[after] = distance[pose] + 1
                queue.append(after)
    return distance


def _on_a_shortest_way(
    come: dict[Pose, int], cells: frozenset[Cell], go: dict[Pose, int], shortest: int
) -> bool:
    """Whether some shortest way (``go`` to its target, ``shortest`` long) passes ``cells``."""
    return any(
        come.get((x, y, d), -1) >= 0
        and (x, y, d) in go
        and come[(x, y, d)] + go[(x, y, d)] == shortest
        for x, y in cells
        for d in range(4)
    )


def _with_pose(state: MiniGridState, pose: Pose) -> MiniGridState:
    return replace(state, agent_pos=(pose[0], pose[1]), agent_dir=pose[2])
