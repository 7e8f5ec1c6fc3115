"""The first screens: loading the agents, then what the session is about."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, LoadingIndicator, Static

from ..widgets import TitleBar


class LoadingScreen(Screen[None]):
    def __init__(self, message: str = "Loading the agent...") -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(self.message, id="loading-message")
        yield LoadingIndicator()
        yield Footer()


class WelcomeScreen(Screen[None]):
    BINDINGS = [Binding("enter", "app.start", "Start")]

    def __init__(self, title: str, description: str, resumed: int, total: int):
        """The deck's title and description, and how far the person is. The study condition is
        never shown: knowing one's arm changes how one studies (issue 14)."""
        super().__init__()
        self.body = (
            f"[b]{title}[/b]\n\n{description.strip()}\n\n"
            + (
                f"Resuming: {resumed} of {total} items already answered.\n"
                if resumed
                else f"{total} items. "
            )
            + "Press [b]enter[/b] to begin, [b]?[/b] for the keys."
        )

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Vertical(id="welcome"):
            yield Static(self.body)
        yield Footer()
