"""The person's answer to "what will the agent do?": a distribution over its actions.

Two ways to answer, both proper: pick the action you expect and set how sure you are (the rest
is spread evenly), or spread probability yourself, moving mass to and from the selected action.
Nothing is picked at the start, so an answer always names an action the person chose (a q left
uniform had been scored as a choice of the first action; issue 14).
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rl_workbench.quiz.scoring import confidence_distribution

STEP = 0.05


class ProbabilityPicker(Widget):
    """Action bars for the person's q (and, after feedback, the agent's π beside them)."""

    DEFAULT_CSS = "ProbabilityPicker { width: 44; height: auto; }"

    selected: reactive[int | None] = reactive(None)
    q: reactive[tuple[float, ...]] = reactive(())
    spread: reactive[bool] = reactive(False)
    revealed: reactive[tuple[float, ...] | None] = reactive(None)

    def __init__(self, action_names: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.action_names = action_names
        self.confidence = 1.0 / len(action_names)
        self.set_reactive(
            ProbabilityPicker.q, tuple(np.full(len(action_names), 1 / len(action_names)))
        )

    # -- editing ---------------------------------------------------------------------------------
    @property
    def chosen(self) -> int | None:
        """The action the person picked, or None before any pick."""
        return self.selected

    def select(self, index: int) -> None:
        self.selected = index % len(self.action_names)
        if not self.spread:
            self.confidence = max(self.confidence, 1 / len(self.action_names))
            self._from_confidence()

    def move(self, step: int) -> None:
        """Select the next (``step`` 1) or previous (-1) action; the first move picks an end."""
        if self.selected is None:
            self.select(0 if step > 0 else len(self.action_names) - 1)
        else:
            self.select(self.selected + step)

    def more(self) -> bool:
        """More sure of the selected action (confidence mode) or more mass on it (spread);
        False when nothing is picked yet."""
        return self._shift(+STEP)

    def less(self) -> bool:
        return self._shift(-STEP)

    def toggle_spread(self) -> None:
        self.spread = not self.spread

    def _shift(self, delta: float) -> bool:
        if self.selected is None:
            return False
        n = len(self.action_names)
        if not self.spread:
            self.confidence = float(np.clip(self.confidence + delta, 1 / n, 1.0))
            self._from_confidence()
            return True
        q = np.array(self.q)
        i = self.selected
        new = float(np.clip(q[i] + delta, 0.0, 1.0))
        rest = 1.0 - q[i]
        others = np.delete(np.arange(n), i)
        if rest > 1e-9:
            q[others] *= (1.0 - new) / rest
        else:
            q[others] = (1.0 - new) / (n - 1)
        q[i] = new
        self.q = tuple(float(v) for v in q / q.sum())
        return True

    def _from_confidence(self) -> None:
        assert self.selected is not None
        q = confidence_distribution(self.selected, self.confidence, len(self.action_names))
        self.q = tuple(float(v) for v in q)

    # -- drawing ---------------------------------------------------------------------------------
    def render(self) -> Text:
        text = Text()
        mode = "spread" if self.spread else "sure"
        text.append(f"Your answer ({mode} mode)\n", style="bold")
        if self.selected is None:  # the line is always there, so the bars never jump
            text.append(f"Pick an action: 1-{len(self.action_names)} or ↑↓\n", style="italic")
        else:
            text.append(f"Your pick: {self.action_names[self.selected]}\n")
        width = 20
        for i, name in enumerate(self.action_names):
            marker = "▶" if i == self.selected else " "
            bar = "█" * round(self.q[i] * width)
            text.append(f"{marker}{i + 1} {name:<10}", style="bold" if i == self.selected else "")
            text.append(f"{bar:<{width}}", style="#5e81ac")
            text.append(f" {self.q[i]:.2f}\n")
            if self.revealed is not None:
                agent_bar = "█" * round(self.revealed[i] * width)
                text.append(f"   {'agent':<10}", style="dim")
                text.append(f"{agent_bar:<{width}}", style="#d0503c")
                text.append(f" {self.revealed[i]:.2f}\n", style="dim")
        return text
