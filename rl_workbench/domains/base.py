"""What every domain offers the counterfactual engine, whatever its states are.

Mazes have symbolic levels with atomic edits; Atari has quantised uint8 frame stacks. Methods only
need the operations below, so one engine (and one honesty rule) serves both.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import torch

S = TypeVar("S")


class Domain(Protocol[S]):
    """A family of states seen as tensors and back."""

    def encode(self, state: S) -> torch.Tensor:
        """The agent's input for ``state``: float, shaped like one env observation."""
        ...

    def decode_like(self, x: torch.Tensor, like: S) -> S:
        """The nearest legal state to ``x``, keeping what methods must not change in ``like``
        (mazes: the maze size and the mouse; Atari: nothing, the stack is only quantised)."""
        ...

    def is_on_distribution(self, state: S) -> bool | None:
        """Whether the environment could produce ``state``; None where no exact check exists."""
        ...

    def distance(self, a: S, b: S) -> float:
        """How far apart two states are: atomic edits (mazes) or changed values (Atari);
        ``inf`` when they cannot be compared (e.g. mazes of different sizes)."""
        ...

    def state_to_json(self, state: S) -> Any:
        """A JSON form of the state, or None where states are saved as arrays instead."""
        ...
