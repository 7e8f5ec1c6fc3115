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

CELL_W, CELL_H = 4, 2
COMPACT_W, COMPACT_H = 2, 1
COMPACT_ABOVE = 9
"""Worlds wider than this are drawn with compact cells."""
WALL, FREE, OUT = "#3b4252", "#e9e2cc", "#1c1f26"
MOUSE, CHEESE, SIGN, CHANGED, CURSOR = "#7a4a2a", "#e0a800", "#2e9e4f", "#d0503c", "#5e81ac"


class MazeView(Widget):
    """Draws a MazeState; optionally a cursor and highlighted (changed) cells.

    Clicking a cell posts ``MazeView.CellClicked`` so an editor can move its cursor there.
    """

    DEFAULT_CSS = "MazeView { width: auto; height: auto; }"

    state: reactive[MazeState | None] = reactive(None, layout=True)
    cursor: reactive[tuple[int, int] | None] = reactive(None)
    changed: reactive[frozenset[tuple[int, int]]] = reactive(frozenset())

    class CellClicked(Message):
        def __init__(self, cell: tuple[int, int]) -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, state: MazeState | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(MazeView.state, state)

    @property
    def cell_size(self) -> tuple[int, int]:
        """(columns, rows) of one maze cell on screen."""
        compact = self.state is not None and self.state.world_size > COMPACT_ABOVE
        return (COMPACT_W, COMPACT_H) if compact else (CELL_W, CELL_H)

    def get_content_width(self, container, viewport) -> int:
        return self.cell_size[0] * (self.state.world_size if self.state else 1)

    def get_content_height(self, container, viewport, width) -> int:
        return self.cell_size[1] * (self.state.world_size if self.state else 1)

    def render(self) -> Text:
        s = self.state
        if s is None:
            return Text("")
        mask = s.maze_mask()
        cell_w, cell_h = self.cell_size
        text = Text()
        for r in range(s.world_size):
            for line in range(cell_h):
                for c in range(s.world_size):
                    cell = (r, c)
                    # Walls and padding are drawn with glyphs, not only colour, so the maze
                    # reads in monochrome terminals and in plain-text captures too.
                    bg = OUT if not mask[cell] else (WALL if s.walls[cell] else FREE)
                    glyph, fg = " " * cell_w, "black"
                    if not mask[cell]:
                        glyph, fg = "░" * cell_w, "#2e3440"
                    elif s.walls[cell]:
                        glyph, fg = "█" * cell_w, WALL
                    if cell in self.changed:
                        bg, fg = CHANGED, CHANGED if s.walls[cell] else fg
                    if line == 0 and mask[cell] and not s.walls[cell]:
                        if cell == s.mouse:
                            glyph, fg = _mark("◉", cell_w), MOUSE
                        elif cell == s.cheese:
                            glyph, fg = _mark("●", cell_w), CHEESE
                        elif s.sign is not None and cell == s.sign:
                            glyph, fg = _mark("▲", cell_w), SIGN
                    style = f"bold {fg} on {bg}"
                    if cell == self.cursor:
                        style = f"bold white on {CURSOR}"
                        if glyph == " " * cell_w:
                            glyph = _mark("·", cell_w) if line == 0 else glyph
                    text.append(glyph, style=style)
                text.append("\n")
        # Only the final newline goes: the bottom row's free squares are spaces, and stripping
        # trailing whitespace drew open passages there as missing (issue 14).
        text.right_crop(1)
        return text

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
