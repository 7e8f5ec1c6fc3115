"""A maze level drawn in colour: two terminal rows and four columns per cell, or for worlds wider
than 9 (procgen's easy scale, 15x15) one row and two columns, so the whole maze fits an 80x24
terminal."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from rl_workbench.envs.maze import MazeState
from rl_workbench.types import Cell

CELL_W, CELL_H = 4, 2
COMPACT_W, COMPACT_H = 2, 1
COMPACT_ABOVE = 9
"""Worlds wider than this are drawn with compact cells."""
CELL_SIZES = ((8, 4), (6, 3), (4, 2), (2, 1))
"""Cell sizes (columns, rows) a maze may be drawn at, largest first (2:1 keeps cells square)."""
WALL, FREE, OUT = "#3b4252", "#e9e2cc", "#1c1f26"
MOUSE, CHEESE, SIGN, CHANGED, CURSOR = "#7a4a2a", "#e0a800", "#2e9e4f", "#d0503c", "#5e81ac"
EDITABLE, OPENED = "#a39e8f", "#9fd49f"
REMOVED = "\u2573"
"""BOX DRAWINGS LIGHT DIAGONAL CROSS: a wall that the change removed."""


class MazeView(Widget):
    """Draws a MazeState; optionally a cursor, the cells an editor may change, and the change
    from a level ``before``.

    Clicking a cell posts ``MazeView.CellClicked`` so an editor can move its cursor there.
    """

    DEFAULT_CSS = "MazeView { width: auto; height: auto; }"

    state: reactive[MazeState | None] = reactive(None, layout=True)
    cursor: reactive[tuple[int, int] | None] = reactive(None)
    before: reactive[MazeState | None] = reactive(None)
    """The level before a change: walls added are drawn ``▒`` in red, walls removed as open
    squares on green with a diagonal cross, and where the cheese (or sign) stood before as
    ``○`` (``△``), so a person sees the whole change, not only where it landed (issue 14)."""
    editable: reactive[frozenset[tuple[int, int]]] = reactive(frozenset())
    """Cells an editor may open or close, drawn apart from the walls that never change: a closed
    one as ``▓``, an open one with a faint ``┄``."""

    class CellClicked(Message):
        def __init__(self, cell: tuple[int, int]) -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, state: MazeState | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.room: tuple[int, int] | None = None
        self.set_reactive(MazeView.state, state)

    @property
    def cell_size(self) -> tuple[int, int]:
        """(columns, rows) of one maze cell on screen: the largest of :data:`CELL_SIZES` whose
        maze fits the room given by :meth:`fit` (the default: 4x2, or 2x1 for worlds wider
        than 9, which fit an 80x24 terminal)."""
        if self.state is None:
            return CELL_W, CELL_H
        if self.room is None:
            compact = self.state.world_size > COMPACT_ABOVE
            return (COMPACT_W, COMPACT_H) if compact else (CELL_W, CELL_H)
        n = self.state.world_size
        width, height = self.room
        for w, h in CELL_SIZES:
            if n * w <= width and n * h <= height:
                return w, h
        return CELL_SIZES[-1]

    def fit(self, width: int, height: int) -> None:
        """Draw the maze as large as ``width`` x ``height`` cells of the terminal allow (a
        larger terminal shows a larger maze instead of empty space; issue 14)."""
        if self.room != (width, height):
            self.room = (width, height)
            self.refresh(layout=True)

    def get_content_width(self, container, viewport) -> int:
        return self.cell_size[0] * (self.state.world_size if self.state else 1)

    def get_content_height(self, container, viewport, width) -> int:
        return self.cell_size[1] * (self.state.world_size if self.state else 1)

    def render(self) -> Text:
        s = self.state
        if s is None:
            return Text("")
        mask = s.maze_mask()
        cell_h = self.cell_size[1]
        prior = self.before
        added = removed = None
        if prior is not None and prior.walls.shape == s.walls.shape:
            added, removed = s.walls & ~prior.walls, ~s.walls & prior.walls
        text = Text()
        for r in range(s.world_size):
            for line in range(cell_h):
                for c in range(s.world_size):
                    cell = (r, c)
                    glyph, fg, bg = self._ground(s, cell, line, bool(mask[cell]))
                    if added is not None and added[cell]:
                        glyph, fg, bg = "▒" * len(glyph), CHANGED, FREE
                    elif removed is not None and removed[cell]:
                        glyph = _mark(REMOVED, len(glyph)) if line == 0 else glyph
                        fg, bg = WALL, OPENED
                    if line == 0 and mask[cell] and not s.walls[cell]:
                        glyph, fg, bg = self._object(s, cell, glyph, fg, bg)
                    style = f"bold {fg} on {bg}"
                    if cell == self.cursor:
                        style = f"bold white on {CURSOR}"
                        if glyph.strip() == "" and line == 0:
                            glyph = _mark("·", len(glyph))
                    text.append(glyph, style=style)
                text.append("\n")
        # Only the final newline goes: the bottom row's free squares are spaces, and stripping
        # trailing whitespace drew open passages there as missing (issue 14).
        text.right_crop(1)
        return text

    def _ground(self, s: MazeState, cell: Cell, line: int, inside: bool) -> tuple[str, str, str]:
        """(glyph, fg, bg) of a cell without objects. Walls and padding are drawn with glyphs,
        not only colour, so the maze reads in monochrome terminals and plain-text captures."""
        cell_w = self.cell_size[0]
        if not inside:
            return "░" * cell_w, "#2e3440", OUT
        if s.walls[cell]:
            return ("▓" if cell in self.editable else "█") * cell_w, WALL, WALL
        if cell in self.editable and line == 0:
            return _mark("┄", cell_w), EDITABLE, FREE
        return " " * cell_w, "black", FREE

    def _object(
        self, s: MazeState, cell: Cell, glyph: str, fg: str, bg: str
    ) -> tuple[str, str, str]:
        """The mouse, the cheese, the sign, or where the cheese and sign stood ``before``."""
        prior, width = self.before, len(glyph)
        if cell == s.mouse:
            return _mark("◉", width), MOUSE, bg
        if cell == s.cheese:
            moved = prior is not None and prior.cheese != cell
            return _mark("●", width), CHEESE, CHANGED if moved else bg
        if s.sign is not None and cell == s.sign:
            return _mark("▲", width), SIGN, bg
        if prior is not None and cell == prior.cheese:
            return _mark("○", width), CHEESE, bg
        if prior is not None and prior.sign is not None and cell == prior.sign:
            return _mark("△", width), SIGN, bg
        return glyph, fg, bg

    def on_click(self, event: events.Click) -> None:
        if self.state is None:
            return
        cell_w, cell_h = self.cell_size
        cell = (event.y // cell_h, event.x // cell_w)
        if 0 <= cell[0] < self.state.world_size and 0 <= cell[1] < self.state.world_size:
            self.post_message(self.CellClicked(cell))


def _mark(symbol: str, width: int) -> str:
    """A symbol placed in a cell ``width`` columns wide (one column in, as at full size)."""
    return (" " + symbol).ljust(width) if width > 2 else symbol.ljust(width)
