"""Type aliases shared across packages."""

from __future__ import annotations

from typing import Literal

Cell = tuple[int, int]
"""A grid position as (row, col); row 0 is the top of the world."""

ObsMode = Literal["symbolic", "rgb"]
"""How the maze is observed: one-hot object channels, or a 64x64 RGB picture like procgen."""

SignMode = Literal["none", "on_cheese", "away", "independent"]
"""Where the green sign goes: absent, on the cheese (training), or away from it (test)."""
