"""The end of a session: scores, a calibration table, and the person's history."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..widgets import TitleBar


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if pct else f"{value:.3f}"


def results_text(r: dict[str, Any]) -> str:
    lines = [
        "[b]Session results[/b]",
        "",
        f"Predictions: {r['predict_answers']}, mean ‖q - π‖² {_fmt(r['mean_squared_distance'])} "
        f"(0 is perfect), top choice = agent's {_fmt(r['accuracy'], True)}",
    ]
    if r["construct_success"] is not None:  # a deck without the phase shows no line for it
        lines.append(f"Construct: success {_fmt(r['construct_success'], True)}")
    if r["spot_agent_correct"] is not None:
        lines.append(
            f"Spot the flawed agent: named {_fmt(r['spot_agent_correct'], True)}, "
            f"what it ignores {_fmt(r['spot_object_correct'], True)}"
        )
    lines += [
        "",
        "[b]Calibration[/b]  stated confidence vs how often your top choice was the agent's",
        f"{'confidence':<14}{'answers':>8}{'mean stated':>13}{'correct':>9}",
    ]
    for row in r["calibration"]:
        lines.append(
            f"{row['bin']:<14}{row['answers']:>8}{_fmt(row['mean_confidence']):>13}"
            f"{_fmt(row['fraction_correct'], True):>9}"
        )
    lines += [
        "",
        "[b]Your sessions[/b]",
        f"{'session':<9}{'answers':>8}{'‖q - π‖²':>10}{'accuracy':>10}",
    ]
    for h in r["history"]:
        lines.append(
            f"{h['session']:<9}{h['answers']:>8}{h['mean_squared_distance']:>10.3f}"
            f"{h['accuracy']:>10.0%}"
        )
    return "\n".join(lines)


def closing_text(debrief: str | None, completion_code: str | None) -> str:
    """What a study says at the end (the deck's debrief and completion code), before the
    scores; empty when the deck has neither."""
    parts = []
    if completion_code:
        parts.append(
            f"[b]Your completion code: {escape(completion_code)}[/b]\n"
            "Copy it into the study's page to confirm you finished."
        )
    if debrief:
        parts.append(escape(debrief))
    return "\n\n".join(parts)


class ResultsScreen(Screen[None]):
    BINDINGS = [Binding("q,enter", "app.quit", "Quit")]

    def __init__(
        self,
        results: dict[str, Any],
        *,
        debrief: str | None = None,
        completion_code: str | None = None,
    ) -> None:
        super().__init__()
        self.results = results
        self.closing = closing_text(debrief, completion_code)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="results"):
            if self.closing:
                yield Static(self.closing, id="debrief")
            yield Static(results_text(self.results))
        yield Footer()
