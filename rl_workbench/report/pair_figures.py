"""How each domain family's (original, counterfactual) pair is drawn in a report.

Domains sit below ``report`` and cannot name its figure functions, so this table, keyed by the
domain's ``family`` attribute, is where a new family registers its pictures. Each entry takes the
domain's ``picture(state)`` of both states.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PIL import Image

from .atari_figure import atari_figure, stack_animation
from .counterfactual_figure import counterfactual_figure
from .grid_figure import grid_figure

PAIR_FIGURES: dict[str, Callable[..., Image.Image]] = {
    "maze": counterfactual_figure,
    "atari": atari_figure,
    "minigrid": grid_figure,
}
"""The still figure of a pair: (original, counterfactual, probs before, probs after, action
names, title before, title after) -> image."""

PAIR_ANIMATIONS: dict[str, Callable[[Any, Any], list[Image.Image]]] = {
    "atari": stack_animation,  # a frame stack moves: play it as the agent saw it
}
"""GIF frames of a pair, for families whose states are sequences (absent: no animation)."""


def pair_figure(family: str, *args: Any) -> Image.Image:
    """The still figure of a pair for ``family`` (arguments as :data:`PAIR_FIGURES`)."""
    return PAIR_FIGURES[family](*args)


def pair_animation(family: str, original: Any, counterfactual: Any) -> list[Image.Image] | None:
    """GIF frames of a pair, or None where the family's states do not move."""
    animate = PAIR_ANIMATIONS.get(family)
    return None if animate is None else animate(original, counterfactual)
