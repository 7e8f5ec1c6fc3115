"""The deck's consent text, before anything about the participant is stored.

Why before the session: a study may keep nothing of a person who does not agree, and assigning
an arm to someone who then declines would unbalance the blocks (quiz/design.py). So the app asks
first, and only an agreement creates the participant, their arm and their session.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from ..widgets import TitleBar


class ConsentScreen(Screen[None]):
    """The consent text; ``y`` (or the button) agrees, ``n`` declines and ends the quiz."""

    BINDINGS = [
        Binding("y", "app.consent(True)", "I agree"),
        Binding("n", "app.consent(False)", "I do not agree"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="consent"):
            yield Static("[b]Consent[/b]\n\n" + escape(self.text))
            yield Static(
                "\nPress [b]y[/b] if you agree to take part, [b]n[/b] if you do not (nothing "
                "about you is kept then)."
            )
            with Horizontal(id="consent-buttons"):
                yield Button("I agree", id="agree", variant="success")
                yield Button("I do not agree", id="decline", variant="error")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.app.action_consent(event.button.id == "agree")  # type: ignore[attr-defined]
