"""What a person building a MiniGrid situation may change, and why one is not legal yet.

The agent stays where it stands and faces where it faces (the question is what it does *there*);
everything else is the domain's atomic edits: move the goal or an object, put up or take down an
inner wall, open, close or lock a door. A situation is legal when minigrid's generators could have
made it (the domain's legality: outer wall closed, at most one goal, reachable).
"""

from __future__ import annotations

from typing import Any

from rl_workbench.domains.minigrid import (
    DOOR,
    DOOR_CLOSED,
    DOOR_LOCKED,
    DOOR_OPEN,
    GOAL,
    MOVABLE,
    Edit,
    MiniGridState,
    legality_problems,
)
from rl_workbench.types import Cell

FROZEN_KINDS = ("move_agent", "turn_agent")
"""Edit kinds a person may not make (the agent's pose is the situation asked about)."""


def grid_refusal(
    domain: Any, original: MiniGridState, state: MiniGridState, budget: int
) -> str | None:
    """Why an edited situation is refused (None: legal and within the budget)."""
    if (state.agent_pos, state.agent_dir) != (original.agent_pos, original.agent_dir):
        return "The agent stays where it is and faces where it faces; edit the room around it."
    problems = legality_problems(state)
    if problems:
        return "Not a legal room yet: " + "; ".join(problems) + "."
    used = int(domain.distance(original, state))
    if used > budget:
        return f"{used} edits is over the budget of {budget}."
    return None


def key_edit(state: MiniGridState, key: str, cell: Cell) -> Edit:
    """The edit a construct key asks for at ``cell``: ``g`` the goal here, ``w`` a wall
    (toggled), ``o`` the nearest movable object (key, ball or box) here, ``d`` the door here to
    its next state (open, closed, locked). Raises ValueError with the reason when it cannot."""
    if key == "g":
        if not state.cells_of(GOAL):
            raise ValueError("this room has no goal to move")
        return Edit("move_goal", cell)
    if key == "w":
        return Edit("toggle_wall", cell)
    if key == "o":
        objects = [c for kind in MOVABLE for c in state.cells_of(kind)]
        if not objects:
            raise ValueError("this room has no key, ball or box to move")
        source = min(objects, key=lambda c: abs(c[0] - cell[0]) + abs(c[1] - cell[1]))
        return Edit("move_object", cell, source)
    if key == "d":
        grid = state.array
        if int(grid[cell[0], cell[1], 0]) != DOOR:
            raise ValueError("no door under the cursor")
        after = {DOOR_OPEN: DOOR_CLOSED, DOOR_CLOSED: DOOR_LOCKED, DOOR_LOCKED: DOOR_OPEN}
        return Edit("set_door", cell, value=after[int(grid[cell[0], cell[1], 2])])
    raise ValueError(f"no edit on key {key!r}")
