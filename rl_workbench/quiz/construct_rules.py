"""What a person building a level may change, and why a level is not legal yet, in the terms of
procgen's maze generator (the rules the agent's levels obey).

A procgen maze of side s lies on a lattice: *rooms* (even rows and columns of the maze block) are
always open, *pillars* (odd rows and columns) are always wall, and each *passage* between two
neighbouring rooms is open or closed; a level is a perfect maze when the open passages link the
rooms into one tree. The construct screen used to refuse a perfect-looking level with "every free
square must be reachable by exactly one path" and showed no pillars (issue 14); here each edit is
checked as it is made, refusals name the real rule, and the status of the whole level (loops,
rooms cut off) is said after every edit, since changing a maze takes an opening and a closing
whose first half is never a perfect maze.
"""

from __future__ import annotations

from typing import Literal

from rl_workbench.envs.maze import MazeState
from rl_workbench.envs.maze.generation import DisjointSets, passages
from rl_workbench.types import Cell

Role = Literal["outside", "room", "pillar", "passage"]


def cell_role(level: MazeState, cell: Cell) -> Role:
    """What a cell is on the maze's lattice."""
    if not level.in_maze(cell):
        return "outside"
    top, left = level.origin
    odd_row, odd_col = (cell[0] - top) % 2, (cell[1] - left) % 2
    if not odd_row and not odd_col:
        return "room"
    if odd_row and odd_col:
        return "pillar"
    return "passage"


def wall_edit_refusal(level: MazeState, cell: Cell) -> str | None:
    """Why the wall at ``cell`` may not be toggled, or None when it may."""
    role = cell_role(level, cell)
    if role == "outside":
        return "outside the maze: its border is always wall."
    if role == "room":
        return (
            "a room: rooms (every other square of the maze, the ones objects stand on) are always "
            "open. Only the passages between two rooms open and close."
        )
    if role == "pillar":
        return (
            "a pillar: the squares between four rooms are always wall. Only the passages between "
            "two rooms open and close."
        )
    for name, pos in (("mouse", level.mouse), ("cheese", level.cheese), ("sign", level.sign)):
        if pos == cell:
            return f"the {name} stands in this passage; move it first."
    return None


def editable_walls(level: MazeState) -> frozenset[Cell]:
    """The passage cells a person may open or close (none holding an object)."""
    occupied = {level.mouse, level.cheese, level.sign}
    return frozenset(
        cell for _, _, cell in passages(level.maze_size, level.world_size) if cell not in occupied
    )


def maze_problems(level: MazeState) -> list[str]:
    """Why the level is not a perfect maze, in the lattice's terms; empty when it is one.

    Counts loops (open passages beyond a tree's) and rooms cut off from the mouse, so a person
    halfway through a change (one passage opened, its partner not yet closed) is told what is
    left to do rather than only "illegal".
    """
    edges = passages(level.maze_size, level.world_size)
    sets = DisjointSets()
    find = sets.find
    rooms = {a for a, _, _ in edges} | {b for _, b, _ in edges}
    if not rooms:  # a maze of one room
        top, left = level.origin
        rooms = {(top, left)}
    open_passages = 0
    for a, b, passage in edges:
        if not level.walls[passage]:
            open_passages += 1
            sets.union(a, b)
    components = len({find(r) for r in rooms})
    loops = open_passages - (len(rooms) - components)
    out = []
    if loops > 0:
        out.append(
            f"{loops} loop{'s' if loops > 1 else ''}: there must be exactly one path between "
            "any two squares; close a passage on each loop."
        )
    mouse_room = _room_of(level, level.mouse)
    cut = sum(1 for r in rooms if find(r) != find(mouse_room)) if mouse_room in rooms else 0
    if cut:
        out.append(
            f"{cut} room{'s' if cut > 1 else ''} cut off from the mouse: open a passage into "
            f"{'them' if cut > 1 else 'it'}."
        )
    return out


def _room_of(level: MazeState, cell: Cell) -> Cell:
    """The room a cell is (or, for a passage, one of the two rooms it joins)."""
    top, left = level.origin
    return (top + (cell[0] - top) // 2 * 2, left + (cell[1] - left) // 2 * 2)


def change_in_words(before: MazeState, after: MazeState) -> str:
    """The whole change from ``before`` to ``after`` in one line, e.g. "cheese moved 2 up and 1
    left · 1 wall removed · 1 wall added" (the picture marks where; this says what)."""
    parts = []
    for name, old, new in (
        ("cheese", before.cheese, after.cheese),
        ("sign", before.sign, after.sign),
        ("mouse", before.mouse, after.mouse),
    ):
        if old == new:
            continue
        if old is None or new is None:
            parts.append(f"{name} {'added' if old is None else 'removed'}")
        else:
            parts.append(f"{name} moved {_offset_in_words(new[0] - old[0], new[1] - old[1])}")
    if before.walls.shape == after.walls.shape:
        removed = int((before.walls & ~after.walls).sum())
        added = int((after.walls & ~before.walls).sum())
        if removed:
            parts.append(f"{removed} wall{'s' if removed > 1 else ''} removed")
        if added:
            parts.append(f"{added} wall{'s' if added > 1 else ''} added")
    return " · ".join(parts) if parts else "no change"


def _offset_in_words(dr: int, dc: int) -> str:
    steps = []
    if dr:
        steps.append(f"{abs(dr)} {'down' if dr > 0 else 'up'}")
    if dc:
        steps.append(f"{abs(dc)} {'right' if dc > 0 else 'left'}")
    return " and ".join(steps)
