"""Cards between phases: what the phase asks, before its first item, and the notice shown while
the terminal is smaller than the quiz needs.

Why intro cards (issue 14): the purpose of "spot the flawed agent" only appeared in its last
question, so people watched six items without knowing what to look for. Each card is the same in
both study conditions: nothing on it may tell a person which arm they are in.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from ..deck import Phase
from ..widgets import TitleBar

MIN_SIZE = (80, 24)
"""The smallest terminal every screen is laid out for (columns, rows)."""


def intro_text(phase: Phase, goal: str | None = None) -> str:
    """The card for a phase: the deck's own ``intro`` text, or the default for its kind."""
    if phase.intro:
        return phase.intro
    n = phase.items
    situations = f"{n} situation{'' if n == 1 else 's'}"
    levels = f"{n} level{'' if n == 1 else 's'}"
    if phase.kind == "study":
        return (
            f"[b]Study[/b]: {situations} and what the agent does in each. Take your time: "
            "the next phases test how well you can predict it."
        )
    if phase.kind == "predict":
        told = (
            "After each answer you see what the agent does."
            if phase.feedback
            else "You will not be told what the agent does until the end."
        )
        return (
            f"[b]Predict[/b]: {situations}. For each, pick the action you think the agent "
            "takes (a number key) and say how sure you are (+ and -). Your answer is scored "
            f"against the agent's own probabilities. {told}"
        )
    if phase.kind == "construct":
        what = goal or "do what is asked"
        return (
            f"[b]Construct[/b]: {levels}. Change each so that the agent will {what}, with at "
            f"most {phase.budget} edits: move the cheese, open or close passages, move the "
            "sign. The mouse stays. The level must stay a legal maze; the screen tells you "
            "what is left to fix after every edit."
        )
    return (
        f"[b]Spot the flawed agent[/b]: you will watch two agents, A and B, in {situations}. "
        "One of them cannot see one thing in the level. Watch what each does; at the end you "
        "name the flawed agent and what it ignores."
    )


class IntroScreen(Screen[None]):
    """The card before a phase's first item; Enter goes on."""

    BINDINGS = [Binding("enter", "app.intro_done", "Begin")]

    def __init__(self, text: str, progress: str) -> None:
        super().__init__()
        self.text = text
        self.progress = progress

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(self.progress, id="progress")
        with Vertical(id="intro"):
            yield Static(self.text + "\n\nPress [b]enter[/b] to begin, [b]?[/b] for the keys.")
        yield Footer()


class TooSmallScreen(ModalScreen[None]):
    """Covers the quiz while the terminal is smaller than :data:`MIN_SIZE`; it closes itself
    once the terminal is large enough (answers are untouched meanwhile)."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__()
        self.size_now = size

    def compose(self) -> ComposeResult:
        width, height = self.size_now
        yield Static(
            f"This terminal is {width}x{height}; the quiz needs at least "
            f"{MIN_SIZE[0]}x{MIN_SIZE[1]}. Make the window larger to go on (your answers are "
            "saved).",
            id="too-small",
        )
