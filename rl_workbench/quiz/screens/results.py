"""The end of a session: scores, a calibration table, and the person's history."""

from __future__ import annotations

from typing import Any

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
        f"Construct: success {_fmt(r['construct_success'], True)}",
        f"Spot the flawed agent: named {_fmt(r['spot_agent_correct'], True)}, "
        f"what it ignores {_fmt(r['spot_object_correct'], True)}",
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


class ResultsScreen(Screen[None]):
    BINDINGS = [Binding("q,enter", "app.quit", "Quit")]

    def __init__(self, results: dict[str, Any]) -> None:
        super().__init__()
        self.results = results

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="results"):
            yield Static(results_text(self.results))
        yield Footer()
