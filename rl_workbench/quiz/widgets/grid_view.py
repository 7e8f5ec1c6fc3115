"""A MiniGrid situation drawn in the terminal: every cell a block of colour, objects in their own
colours (minigrid's palette), the agent as an arrow that shows which way it faces.

The agent's direction decides what "forward" does, so it must be visible at a glance (issue 15);
objects of the same kind differ only by colour in MiniGrid, so each is drawn in its colour and a
letter names the kind where colour alone would be ambiguous (door, key).
"""

from __future__ import annotations

from minigrid.core.constants import COLORS, IDX_TO_COLOR, IDX_TO_OBJECT
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rl_workbench.domains.minigrid import MiniGridState

CELL_SIZES = ((6, 3), (4, 2), (2, 1))
"""Cell sizes (columns, rows) a grid may be drawn at, largest first."""
FLOOR, UNSEEN, WALL, CHANGED, CURSOR = "#262a33", "#000000", "#7a7a7a", "#d0503c", "#5e9eff"
ARROWS = ("▶", "▼", "◀", "▲")
"""minigrid's agent_dir 0-3: right, down, left, up."""
AGENT, AGENT_BG = "#ffffff", "#c03030"
"""The agent: a white arrow on red, visible on any floor."""
DOOR_STATES = {0: "╌", 1: "D", 2: "L"}
"""open, closed, locked."""

LEGEND = (
    "▶ agent (points where it faces) · grey: wall · green: goal · D door (L locked, ╌ open) "
    "· K key · ● ball · ▣ box · ≈ lava"
)


def _hex(name: str) -> str:
    r, g, b = (int(v) for v in COLORS[name])
    return f"#{r:02x}{g:02x}{b:02x}"


def cell_look(obj: int, colour: int, state: int) -> tuple[str, str, str]:
    """(symbol, foreground, background) of one encoded cell."""
    kind = IDX_TO_OBJECT.get(obj, "unseen")
    tint = _hex(IDX_TO_COLOR.get(colour, "grey"))
    if kind == "wall":
        return " ", WALL, WALL
    if kind == "goal":
        return " ", tint, tint
    if kind == "lava":
        return "≈", "#ffe0a0", "#ff8c00"
    if kind == "door":
        return DOOR_STATES.get(state, "D"), tint, FLOOR
    if kind == "key":
        return "K", tint, FLOOR
    if kind == "ball":
        return "●", tint, FLOOR
    if kind == "box":
        return "▣", tint, FLOOR
    if kind == "unseen":
        return " ", UNSEEN, UNSEEN
    return " ", FLOOR, FLOOR


class GridView(Widget):
    """Draws a :class:`MiniGridState`; with ``before``, the cells that changed are marked."""

    DEFAULT_CSS = "GridView { width: auto; height: auto; }"

    state: reactive[MiniGridState | None] = reactive(None, layout=True)
    cursor: reactive[tuple[int, int] | None] = reactive(None)
    """An editor's cursor (x, y), drawn as a blue frame."""
    before: reactive[MiniGridState | None] = reactive(None)
    """The situation before a change: every cell whose content (or the agent on it) differs is
    drawn with a red frame, so a person sees the whole change."""

    def __init__(self, state: MiniGridState | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.room: tuple[int, int] | None = None
        self.set_reactive(GridView.state, state)

    @property
    def cell_size(self) -> tuple[int, int]:
        """(columns, rows) per cell: the largest of :data:`CELL_SIZES` that fits :meth:`fit`'s
        room (4x2 until told)."""
        if self.state is None or self.room is None:
            return CELL_SIZES[1]
        width, height = self.room
        for w, h in CELL_SIZES:
            if self.state.width * w <= width and self.state.height * h <= height:
                return w, h
        return CELL_SIZES[-1]

    def fit(self, width: int, height: int) -> None:
        if self.room != (width, height):
            self.room = (width, height)
            self.refresh(layout=True)

    def get_content_width(self, container, viewport) -> int:  # type: ignore[no-untyped-def]
        return 0 if self.state is None else self.state.width * self.cell_size[0]

    def get_content_height(self, container, viewport, width) -> int:  # type: ignore[no-untyped-def]
        return 0 if self.state is None else self.state.height * self.cell_size[1]

    def changed_cells(self) -> set[tuple[int, int]]:
        state, before = self.state, self.before
        if state is None or before is None:
            return set()
        a, b = state.array, before.array
        cells = {(int(x), int(y)) for x, y in zip(*((a != b).any(axis=2)).nonzero(), strict=True)}
        if (state.agent_pos, state.agent_dir) != (before.agent_pos, before.agent_dir):
            cells |= {state.agent_pos, before.agent_pos}
        return cells

    def render(self) -> Text:
        state = self.state
        text = Text(no_wrap=True, overflow="crop")
        if state is None:
            return text
        w, h = self.cell_size
        grid = state.array
        changed = self.changed_cells()
        for y in range(state.height):
            for row in range(h):
                for x in range(state.width):
                    symbol, fg, bg = cell_look(*(int(v) for v in grid[x, y]))
                    if (x, y) == state.agent_pos:
                        symbol, fg, bg = ARROWS[state.agent_dir], AGENT, AGENT_BG
                    middle = row == h // 2
                    body = [symbol if middle and i == (w - 1) // 2 else " " for i in range(w)]
                    edge = CURSOR if (x, y) == self.cursor else CHANGED
                    if ((x, y) in changed or (x, y) == self.cursor) and w >= 2:
                        body[0], body[-1] = "▌", "▐"
                        text.append(body[0], style=f"bold {edge} on {bg}")
                        text.append("".join(body[1:-1]), style=f"bold {fg} on {bg}")
                        text.append(body[-1], style=f"bold {edge} on {bg}")
                    else:
                        text.append("".join(body), style=f"bold {fg} on {bg}")
                if y < state.height - 1 or row < h - 1:
                    text.append("\n")
        return text
