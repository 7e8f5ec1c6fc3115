"""One screen per kind of item. Screens only show and collect; the app scores and stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from rl_workbench.domains.registry import family_of_state
from rl_workbench.errors import InvalidEditError

from ..construct_rules import (
    change_in_words,
    editable_walls,
    maze_problems,
    wall_edit_refusal,
)
from ..items import SPOT_OBJECTS, Item
from ..scoring import NoChoiceError
from ..widgets import FrameView, GridView, MazeView, ProbabilityPicker, TitleBar
from ..widgets.frame_view import FULL_SIZE, contrast_scale
from ..widgets.grid_view import LEGEND as GRID_LEGEND
from ..widgets.maze_view import REMOVED


def _maze_widget(state: Any, *, stride: int, like: Any) -> Widget:
    """A maze; with ``like`` (the original), the whole change drawn on it (see MazeView)."""
    view = MazeView(state)
    if like is not None:
        view.before = like
    return view


def _frame_widget(state: Any, *, stride: int, like: Any) -> Widget:
    """A stack's frames in half-block pixels, one at a time (see FrameView); a counterfactual is
    drawn with its original's contrast, so the two panels of a before/after pair compare."""
    scale = contrast_scale((like if like is not None else state).obs)
    return FrameView(state.obs, stride=stride, scale=scale)


def _grid_widget(state: Any, *, stride: int, like: Any) -> Widget:
    """A MiniGrid situation; with ``like`` (the original), the changed cells framed."""
    view = GridView(state)
    if like is not None:
        view.before = like
    return view


STATE_WIDGETS: dict[str, Callable[..., Widget]] = {
    "maze": _maze_widget,
    "atari": _frame_widget,
    "minigrid": _grid_widget,
}
"""How the quiz draws a state, by domain family."""


def state_widget(state: Any, *, stride: int = 1, like: Any = None) -> Widget:
    """The widget of a state, drawn as its domain family is: a maze, or an Atari stack (every
    ``stride``-th pixel; :meth:`ItemScreen.frame_stride` picks it for the terminal). ``like`` is
    the original a counterfactual is compared with."""
    return STATE_WIDGETS[family_of_state(state)](state, stride=stride, like=like)


def _grid_change(before: Any, after: Any) -> str:
    """What changed between two MiniGrid situations, in words: objects moved, walls added or
    removed, doors opened or closed, the agent moved or turned."""
    from minigrid.core.constants import IDX_TO_OBJECT, STATE_TO_IDX

    from rl_workbench.domains.minigrid import DIRECTIONS

    a, b = before.array, after.array
    parts = []
    for kind in ("goal", "key", "ball", "box", "lava"):
        idx = next(i for i, name in IDX_TO_OBJECT.items() if name == kind)
        old, new = set(before.cells_of(idx)), set(after.cells_of(idx))
        gone, came = sorted(old - new), sorted(new - old)
        if len(gone) == 1 and len(came) == 1:
            parts.append(f"the {kind} moved from {gone[0]} to {came[0]}")
        elif gone or came:
            parts.append(f"{kind}: {len(came)} added, {len(gone)} removed")
    wall = next(i for i, name in IDX_TO_OBJECT.items() if name == "wall")
    added = int(((b[:, :, 0] == wall) & (a[:, :, 0] != wall)).sum())
    removed = int(((a[:, :, 0] == wall) & (b[:, :, 0] != wall)).sum())
    if added:
        parts.append(f"{added} wall{'s' if added > 1 else ''} added")
    if removed:
        parts.append(f"{removed} wall{'s' if removed > 1 else ''} removed")
    door = next(i for i, name in IDX_TO_OBJECT.items() if name == "door")
    names = {v: k for k, v in STATE_TO_IDX.items()}
    both = (a[:, :, 0] == door) & (b[:, :, 0] == door) & (a[:, :, 2] != b[:, :, 2])
    for x, y in zip(*both.nonzero(), strict=True):
        parts.append(f"the door at {(int(x), int(y))} now {names.get(int(b[x, y, 2]), '?')}")
    if before.agent_pos != after.agent_pos:
        parts.append(f"the agent moved from {before.agent_pos} to {after.agent_pos}")
    if before.agent_dir != after.agent_dir:
        parts.append(f"the agent now faces {DIRECTIONS[after.agent_dir]}")
    if before.carrying != after.carrying:
        parts.append("it carries something else")
    return " · ".join(parts) or "nothing"


def _frame_change(before: Any, after: Any) -> str:
    changed = before.obs != after.obs
    frames = int(changed.any(axis=(0, 1)).sum())
    return f"{int(changed.sum())} pixels changed in {frames} of {changed.shape[-1]} frames"


MAZE_ROWS_AROUND = 9
"""Terminal rows an item screen needs besides its maze (title, progress, caption, notes,
footer)."""


MAZE_LEGEND = "◉ mouse · ● cheese · ▲ sign · █ wall · ░ outside the maze"


def _with_frame_note(widget: Widget) -> ComposeResult:
    """The widget, and under it what its symbols mean: for a frame stack, which frame and at
    what size; for a maze, its legend."""
    yield widget
    if isinstance(widget, FrameView):
        yield Static("", classes="frame-note")
    elif isinstance(widget, MazeView):
        yield Static(MAZE_LEGEND, classes="maze-legend")
    elif isinstance(widget, GridView):
        yield Static(GRID_LEGEND, classes="maze-legend")


CHANGE_IN_WORDS: dict[str, Callable[[Any, Any], str]] = {
    "maze": change_in_words,
    "atari": _frame_change,
    "minigrid": _grid_change,
}
"""The one-line description of a counterfactual's change, by domain family."""


CONSTRUCT_LEGEND = (
    "◉ mouse (stays)  ● cheese  ▲ sign\n"
    "█ always wall  ▓ closed passage\n"
    "┄ open passage (w closes it)\n"
    "c cheese here · w passage · g sign\n"
    "u undo · r reset · Enter submit"
)

STUDY_LEGENDS = {
    "maze": "◉ mouse · ● cheese, red if moved · ○ its old place · ▒ wall added · "
    + REMOVED
    + " removed",
    "atari": "the same frame before and after the change (f: the next frame of both)",
    "minigrid": "red frames: the cells that changed · " + GRID_LEGEND,
}
"""The symbols of a before/after pair, by domain family."""

NO_PICK = "Pick the action you expect first (a number key or ↑↓), then say how sure you are."


def _top(probs: np.ndarray | None, names: tuple[str, ...]) -> str:
    if probs is None:
        return "?"
    a = int(np.argmax(probs))
    return f"{names[a].upper()} ({probs[a]:.0%})"


class ItemScreen(Screen[None]):
    """What every item screen shares: the header line with the phase and progress, and for
    frame stacks the size of their pixels and which of the four frames is shown."""

    BINDINGS = [
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
        Binding("f", "next_frame", "Next frame", show=False),
    ]
    FRAME_PANELS = 1
    """Frame panels side by side on this screen (a before/after pair has two)."""
    BESIDE_FRAMES = 0
    """Columns other widgets take beside the frames (the predict screen's answer panel)."""

    def __init__(self, item: Item, names: tuple[str, ...], progress: str) -> None:
        super().__init__()
        self.item = item
        self.names = names
        self.progress = progress
        self.answered = False
        """Set once the answer is given: the screen takes no second answer (issue 14: an Enter
        while the next item was built recorded the item again)."""

    def compose_header(self) -> ComposeResult:
        yield TitleBar()
        yield Static(self.progress, id="progress")

    def frame_stride(self) -> int:
        """Every pixel when the terminal has room for this screen's frames, else every second
        (or third) one."""
        width, height = self.app.size
        for stride in (1, 2):
            cols, rows = -(-FULL_SIZE[0] // stride), -(-FULL_SIZE[1] // stride)
            if self.FRAME_PANELS * (cols + 2) + self.BESIDE_FRAMES <= width and rows + 10 <= height:
                return stride
        return 3

    def frame_note(self) -> str:
        """What the frames show, for the caption under them ("" for states that are not)."""
        views = list(self.query(FrameView))
        if not views:
            return ""
        view = views[0]
        note = f"frame {view.frame_number} of {view.frames} (f: next frame)"
        if view.stride > 1:
            cols = self.FRAME_PANELS * (FULL_SIZE[0] + 2) + self.BESIDE_FRAMES
            note += (
                f" · every {view.stride}{'nd' if view.stride == 2 else 'rd'} pixel: a terminal "
                f"of {cols}x{FULL_SIZE[1] + 10} shows all 84x84"
            )
        return note

    def on_mount(self) -> None:
        self._fit_frames()

    def on_resize(self) -> None:
        self._fit_frames()

    def _fit_frames(self) -> None:
        stride = self.frame_stride()
        for view in self.query(FrameView):
            view.stride = stride
        self._show_frame_note()
        width, height = self.app.size
        room = (width - self.BESIDE_FRAMES - 4) // self.FRAME_PANELS - 2
        for maze in self.query(MazeView):
            maze.fit(room, height - MAZE_ROWS_AROUND)
        for grid in self.query(GridView):
            grid.fit(room, height - MAZE_ROWS_AROUND)

    def action_next_frame(self) -> None:
        for view in self.query(FrameView):
            view.index = view.frame_number % view.frames
        self._show_frame_note()

    def _show_frame_note(self) -> None:
        for note in self.query(".frame-note"):
            if isinstance(note, Static):
                note.update(self.frame_note())


class StudyScreen(ItemScreen):
    """Study and spot items: a state and what the agent does there (and, when explaining, the
    counterfactual: the smallest change that makes it act otherwise)."""

    BINDINGS = [*ItemScreen.BINDINGS, Binding("enter", "next", "Next")]

    def __init__(
        self, item: Item, names: tuple[str, ...], progress: str, seconds: int | None = None
    ) -> None:
        super().__init__(item, names, progress)
        self.seconds = seconds
        """The deck's time budget for the item (None: self-paced); it moves on by itself."""

    def on_mount(self) -> None:
        if self.seconds is not None:
            self.set_timer(self.seconds, self.action_next)
            self.notify(f"This item moves on by itself after {self.seconds} s.", timeout=3)

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        item, names = self.item, self.names
        self.FRAME_PANELS = 2 if item.counterfactual is not None else 1
        who = f"Agent {item.agent_label}" if item.agent_label else "The agent"
        with Vertical(id="study"):
            with Horizontal(id="pair"):
                with Vertical(classes="panel"):
                    label = "Before" if item.counterfactual is not None else who
                    yield Static(f"{label}: {_top(item.probs, names)}", classes="caption")
                    yield (shown := state_widget(item.state))
                    if item.counterfactual is None and isinstance(shown, MazeView):
                        yield Static(MAZE_LEGEND, classes="maze-legend")
                    elif item.counterfactual is None and isinstance(shown, GridView):
                        yield Static(GRID_LEGEND, classes="maze-legend")
                if item.counterfactual is not None:
                    with Vertical(classes="panel"):
                        yield Static(
                            f"After: {_top(item.counterfactual_probs, names)}",
                            classes="caption",
                        )
                        yield state_widget(item.counterfactual, like=item.state)
            if isinstance(shown, FrameView):  # full width, under the pair
                yield Static("", classes="frame-note")
            if item.counterfactual is not None:
                family = family_of_state(item.state)
                yield Static(
                    "Change: " + CHANGE_IN_WORDS[family](item.state, item.counterfactual),
                    id="change",
                )
                yield Static(STUDY_LEGENDS[family], id="study-legend")
        yield Footer()

    def action_next(self) -> None:
        if self.answered:  # a second Enter while the next item loads records nothing
            return
        self.answered = True
        self.app.submit_view(self.item)  # type: ignore[attr-defined]


class PredictScreen(ItemScreen):
    """What will the agent do here? Pick an action and how sure you are, or spread."""

    BINDINGS = [
        *ItemScreen.BINDINGS,
        Binding("enter", "submit", "Submit"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("plus,equals_sign", "more", "More sure"),
        Binding("minus", "less", "Less sure"),
        Binding("s", "spread", "Sure/spread"),
        *[Binding(str(i), f"pick({i - 1})", show=False) for i in range(1, 10)],
    ]

    BESIDE_FRAMES = 46  # the answer panel

    def __init__(self, item: Item, names: tuple[str, ...], progress: str, feedback: bool):
        super().__init__(item, names, progress)
        self.feedback = feedback

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="states"):
            with Vertical(classes="panel"):
                yield Static("What will the agent do here?", classes="caption")
                yield from _with_frame_note(state_widget(self.item.state))
            with Vertical(classes="panel"):
                yield ProbabilityPicker(self.names, id="picker")
                yield Static("", id="feedback")
        yield Footer()

    @property
    def picker(self) -> ProbabilityPicker:
        return self.query_one(ProbabilityPicker)

    def action_move(self, step: int) -> None:
        if not self.answered:
            self.picker.move(step)
            self._hint("")

    def action_pick(self, index: int) -> None:
        if not self.answered and index < len(self.names):
            self.picker.select(index)
            self._hint("")

    def action_more(self) -> None:
        if not self.answered and not self.picker.more():
            self._hint(NO_PICK)

    def action_less(self) -> None:
        if not self.answered and not self.picker.less():
            self._hint(NO_PICK)

    def action_spread(self) -> None:
        if not self.answered:
            self.picker.toggle_spread()

    def _hint(self, text: str) -> None:
        self.query_one("#feedback", Static).update(text)

    def action_submit(self) -> None:
        if self.answered:  # feedback was on screen: move on
            self.app.advance()  # type: ignore[attr-defined]
            return
        if self.picker.chosen is None:
            self._hint(NO_PICK)
            return
        try:
            score = self.app.submit_predict(  # type: ignore[attr-defined]
                self.item, list(self.picker.q), self.picker.chosen, advance=not self.feedback
            )
        except NoChoiceError as exc:  # nothing picked, or q favours another action
            self._hint(f"[b]{exc}[/b]")
            return
        self.answered = True
        if self.feedback and score is not None:
            self.picker.revealed = tuple(float(p) for p in self.item.probs)  # type: ignore[union-attr]
            verdict = "yes" if score["top_choice_correct"] else "no"
            self._hint(
                f"The agent: {_top(self.item.probs, self.names)}. Your choice right: "
                f"{verdict}; ‖q - π‖² = {score['squared_distance']:.3f}. Enter to go on."
            )


class _LevelEditor(ItemScreen):
    """What both construct screens share: the edited level, undo (a reset can itself be undone),
    a submit that never sends the untouched level and waits for the agent's outcome."""

    NO_EDITS = "No edits yet: change the level first, then Enter."

    def __init__(self, item: Item, names: tuple[str, ...], progress: str):
        super().__init__(item, names, progress)
        self.level: Any = item.state
        self.history: list[Any] = []
        """Levels before each edit, for undo."""
        self.outcome_shown = False

    def _refresh(self, message: str = "") -> None:
        raise NotImplementedError

    def _keep(self, edited: Any) -> None:
        """Take an edit (a no-op edit leaves nothing to undo)."""
        if edited != self.level:
            self.history.append(self.level)
            self.level = edited
        self._refresh()

    def action_undo(self) -> None:
        if not self.answered and self.history:
            self.level = self.history.pop()
            self._refresh()

    def action_reset(self) -> None:
        if not self.answered and self.level != self.item.state:
            self.history.append(self.level)  # a reset can itself be undone
            self.level = self.item.state
            self._refresh()

    def action_submit(self) -> None:
        if self.answered:
            if self.outcome_shown:  # before it, the agent is still running: Enter waits
                self.app.advance()  # type: ignore[attr-defined]
            return
        if self.level == self.item.state:  # a stray Enter never submits the untouched level
            self._refresh(self.NO_EDITS)
            return
        reason = self.app.check_construct(self.item, self.level)  # type: ignore[attr-defined]
        if reason is not None:
            self._refresh(f"[red]Refused:[/red] {reason}")
            return
        self.answered = True
        self.query_one("#message", Static).update("Running the agent...")
        self.app.submit_construct(self.item, self.level)  # type: ignore[attr-defined]

    def show_outcome(self, score: dict[str, Any], probs: list[float]) -> None:
        went = self.names[int(np.argmax(probs))].upper()
        result = "[green]Success[/green]" if score["success"] else "[red]Not this time[/red]"
        fewest = score["fewest_edits"]
        self.query_one("#message", Static).update(
            f"{result}: the agent goes {went}. Edits used {score['edits']}, fewest possible "
            f"{'n/a' if fewest is None else fewest}. Enter to go on."
        )
        self.outcome_shown = True


class ConstructScreen(_LevelEditor):
    """Make the agent take the target action by editing the level, within the edit budget."""

    BESIDE_FRAMES = 44  # the status panel

    BINDINGS = [
        *ItemScreen.BINDINGS,
        Binding("enter", "submit", "Submit"),
        Binding("up", "cursor(-1,0)", "↑", show=False),
        Binding("down", "cursor(1,0)", "↓", show=False),
        Binding("left", "cursor(0,-1)", "←", show=False),
        Binding("right", "cursor(0,1)", "→", show=False),
        Binding("c", "cheese", "Cheese here"),
        Binding("w", "wall", "Passage"),
        Binding("g", "sign", "Sign here", show=False),
        Binding("u", "undo", "Undo"),
        Binding("r", "reset", "Reset"),
    ]

    NO_EDITS = "No edits yet: change the maze first (c cheese, w passage, g sign), then Enter."

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="states"):
            with Vertical(classes="panel"):
                yield Static(f"Make the agent {self.item.goal} here", classes="caption")
                view = MazeView(self.level, id="editor")
                view.cursor = self.level.mouse
                view.editable = editable_walls(self.level)
                yield view
            with Vertical(classes="panel"):
                yield Static("", id="status")
                yield Static("", id="message")
                yield Static(CONSTRUCT_LEGEND, classes="legend")
        yield Footer()

    def on_mount(self) -> None:
        self._fit_frames()
        self._refresh()

    @property
    def view(self) -> MazeView:
        return self.query_one("#editor", MazeView)

    def _refresh(self, message: str = "") -> None:
        from rl_workbench.counterfactual.result import count_edits

        used = count_edits(self.item.state, self.level)
        self.view.state = self.level
        self.view.before = self.item.state
        self.view.editable = editable_walls(self.level)
        problems = maze_problems(self.level)
        legal = (
            "[green]A legal maze.[/green]"
            if not problems
            else "[yellow]Not a legal maze yet:[/yellow] " + " ".join(problems)
        )
        self.query_one("#status", Static).update(
            f"Edits: {used} of {self.item.budget}\nNow the agent goes: hidden\n{legal}"
        )
        self.query_one("#message", Static).update(message)

    def action_cursor(self, dr: int, dc: int) -> None:
        r, c = self.view.cursor or self.level.mouse
        n = self.level.world_size
        self.view.cursor = (min(max(r + dr, 0), n - 1), min(max(c + dc, 0), n - 1))

    def on_maze_view_cell_clicked(self, message: MazeView.CellClicked) -> None:
        self.view.cursor = message.cell

    def _edit(self, how: str) -> None:
        if self.answered:
            return
        cell = self.view.cursor or self.level.mouse
        if how == "wall" and (why := wall_edit_refusal(self.level, cell)) is not None:
            self._refresh(f"[red]Refused:[/red] {why}")
            return
        try:
            if how == "cheese":
                edited = self.level.move_cheese(cell)
            elif how == "wall":
                edited = self.level.toggle_wall(cell)
            else:
                edited = self.level.move_sign(cell)
        except InvalidEditError as exc:
            self._refresh(f"[red]Refused:[/red] {exc}")
            return
        self._keep(edited)

    def action_cheese(self) -> None:
        self._edit("cheese")

    def action_wall(self) -> None:
        self._edit("wall")

    def action_sign(self) -> None:
        self._edit("sign")


GRID_CONSTRUCT_LEGEND = (
    "arrows: move the cursor (blue)\n"
    "g goal here · w wall on/off\n"
    "o the nearest key/ball/box here\n"
    "d the door: open/closed/locked\n"
    "the agent stays as it is\n"
    "u undo · r reset · Enter submit"
)


class GridConstructScreen(_LevelEditor):
    """MiniGrid: make the agent take the target action by editing the room around it."""

    BESIDE_FRAMES = 44

    BINDINGS = [
        *ItemScreen.BINDINGS,
        Binding("enter", "submit", "Submit"),
        Binding("up", "cursor(0,-1)", "↑", show=False),
        Binding("down", "cursor(0,1)", "↓", show=False),
        Binding("left", "cursor(-1,0)", "←", show=False),
        Binding("right", "cursor(1,0)", "→", show=False),
        Binding("g", "edit('g')", "Goal here"),
        Binding("w", "edit('w')", "Wall"),
        Binding("o", "edit('o')", "Object here", show=False),
        Binding("d", "edit('d')", "Door", show=False),
        Binding("u", "undo", "Undo"),
        Binding("r", "reset", "Reset"),
    ]

    NO_EDITS = "No edits yet: change the room first (g goal, w wall, o object, d door)."

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="states"):
            with Vertical(classes="panel"):
                yield Static(f"Make the agent {self.item.goal} here", classes="caption")
                view = GridView(self.level, id="editor")
                view.cursor = self.level.agent_pos
                yield view
                yield Static(GRID_LEGEND, classes="maze-legend")
            with Vertical(classes="panel"):
                yield Static("", id="status")
                yield Static("", id="message")
                yield Static(GRID_CONSTRUCT_LEGEND, classes="legend")
        yield Footer()

    def on_mount(self) -> None:
        self._fit_frames()
        self._refresh()

    @property
    def view(self) -> GridView:
        return self.query_one("#editor", GridView)

    def _refresh(self, message: str = "") -> None:
        from rl_workbench.domains.minigrid import legality_problems

        used = int(self.app.session.agents.domain.distance(self.item.state, self.level))  # type: ignore[attr-defined]
        self.view.state = self.level
        self.view.before = self.item.state
        problems = legality_problems(self.level)
        legal = (
            "[green]A legal room.[/green]"
            if not problems
            else "[yellow]Not a legal room yet:[/yellow] " + "; ".join(problems)
        )
        self.query_one("#status", Static).update(
            f"Edits: {used} of {self.item.budget}\nNow the agent does: hidden\n{legal}"
        )
        self.query_one("#message", Static).update(message)

    def action_cursor(self, dx: int, dy: int) -> None:
        x, y = self.view.cursor or self.level.agent_pos
        self.view.cursor = (
            min(max(x + dx, 0), self.level.width - 1),
            min(max(y + dy, 0), self.level.height - 1),
        )

    def action_edit(self, key: str) -> None:
        from .. import grid_rules

        if self.answered:
            return
        cell = self.view.cursor or self.level.agent_pos
        try:
            edited = grid_rules.key_edit(self.level, key, cell).apply(self.level)
        except (ValueError, InvalidEditError) as exc:
            self._refresh(f"[red]Refused:[/red] {exc}")
            return
        self._keep(edited)


class SpotQuestionScreen(ItemScreen):
    """After the spot items: which agent is flawed, and what can it not see?"""

    BINDINGS = [
        *ItemScreen.BINDINGS,
        Binding("a", "agent('A')", "Agent A"),
        Binding("b", "agent('B')", "Agent B"),
        *[Binding(str(i + 1), f"object({i})", show=False) for i in range(len(SPOT_OBJECTS))],
        Binding("enter", "submit", "Submit"),
    ]

    def __init__(self, item: Item, names: tuple[str, ...], progress: str):
        super().__init__(item, names, progress)
        self.flawed: str | None = None
        self.blind_to: str | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("", id="question")
        yield Footer()

    def on_mount(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        options = "  ".join(f"{i + 1} {o}" for i, o in enumerate(SPOT_OBJECTS))
        self.query_one("#question", Static).update(
            "One of the two agents you just watched has a flaw: it cannot see something.\n\n"
            f"Which agent is flawed? (a / b): [b]{self.flawed or '-'}[/b]\n"
            f"What can it not see? ({options}): [b]{self.blind_to or '-'}[/b]\n\n"
            "Enter to submit."
        )

    def action_agent(self, label: str) -> None:
        self.flawed = label
        self._refresh()

    def action_object(self, index: int) -> None:
        self.blind_to = SPOT_OBJECTS[index]
        self._refresh()

    def action_submit(self) -> None:
        if self.flawed and self.blind_to and not self.answered:
            self.answered = True
            self.app.submit_spot(self.item, self.flawed, self.blind_to)  # type: ignore[attr-defined]


class AttentionScreen(ItemScreen):
    """An attention check from the deck: one question, its options on keys 1-9, Enter submits.
    Nothing says it is a check, and no answer is marked right or wrong on screen."""

    BINDINGS = [
        *ItemScreen.BINDINGS,
        *[Binding(str(i + 1), f"choose({i})", show=False) for i in range(9)],
        Binding("enter", "submit", "Submit"),
    ]

    def __init__(
        self,
        item: Item,
        names: tuple[str, ...],
        progress: str,
        question: str,
        options: tuple[str, ...],
    ) -> None:
        super().__init__(item, names, progress)
        self.question = question
        self.options = options
        self.chosen: str | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("", id="question")
        yield Footer()

    def on_mount(self) -> None:
        self._refresh()

    def _refresh(self, hint: str = "") -> None:
        lines = [escape(self.question), ""]
        for i, option in enumerate(self.options):
            mark = "▶" if option == self.chosen else " "
            lines.append(f"{mark} {i + 1}  {escape(option)}")
        lines += ["", hint or "Press the option's number, then Enter."]
        self.query_one("#question", Static).update("\n".join(lines))

    def action_choose(self, index: int) -> None:
        if index < len(self.options):
            self.chosen = self.options[index]
            self._refresh()

    def action_submit(self) -> None:
        if self.answered:
            return
        if self.chosen is None:
            self._refresh("Pick an option first: press its number.")
            return
        self.answered = True
        self.app.submit_attention(self.item, self.chosen)  # type: ignore[attr-defined]
