"""A maze level drawn in colour, two terminal rows and four columns per cell."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from rl_workbench.envs.maze import MazeState

CELL_W, CELL_H = 4, 2
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

    def get_content_width(self, container, viewport) -> int:
        return CELL_W * (self.state.world_size if self.state else 1)

    def get_content_height(self, container, viewport, width) -> int:
        return CELL_H * (self.state.world_size if self.state else 1)

    def render(self) -> Text:
        s = self.state
        if s is None:
            return Text("")
        mask = s.maze_mask()
        text = Text()
        for r in range(s.world_size):
            for line in range(CELL_H):
                for c in range(s.world_size):
                    cell = (r, c)
                    # Walls and padding are drawn with glyphs, not only colour, so the maze
                    # reads in monochrome terminals and in plain-text captures too.
                    bg = OUT if not mask[cell] else (WALL if s.walls[cell] else FREE)
                    glyph, fg = "    ", "black"
                    if not mask[cell]:
                        glyph, fg = "░░░░", "#2e3440"
                    elif s.walls[cell]:
                        glyph, fg = "████", WALL
                    if cell in self.changed:
                        bg, fg = CHANGED, CHANGED if s.walls[cell] else fg
                    if line == 0 and mask[cell] and not s.walls[cell]:
                        if cell == s.mouse:
                            glyph, fg = " ◉  ", MOUSE
                        elif cell == s.cheese:
                            glyph, fg = " ●  ", CHEESE
                        elif s.sign is not None and cell == s.sign:
                            glyph, fg = " ▲  ", SIGN
                    style = f"bold {fg} on {bg}"
                    if cell == self.cursor:
                        style = f"bold white on {CURSOR}"
                        if glyph == "    ":
                            glyph = " ·  " if line == 0 else "    "
                    text.append(glyph, style=style)
                text.append("\n")
        text.rstrip()
        return text

    def on_click(self, event: events.Click) -> None:
        if self.state is None:
            return
        cell = (event.y // CELL_H, event.x // CELL_W)
        if 0 <= cell[0] < self.state.world_size and 0 <= cell[1] < self.state.world_size:
            self.post_message(self.CellClicked(cell))
