"""Pictures and observation tensors of a maze state.

Two things are drawn from a :class:`MazeState`: the symbolic observation (one-hot object channels,
what our agents see by default) and RGB pictures, either the small 64x64 procgen-like observation
or a larger image for people. Drawing is plain numpy so it is fast enough to run inside ``step``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .state import MazeState

CHANNELS: tuple[str, ...] = ("wall", "free", "mouse", "cheese", "sign", "out_of_maze")
"""Symbolic observation channels, in order. Exactly one of wall/free/out_of_maze is set per cell."""

COLORS: dict[str, tuple[int, int, int]] = {
    "out_of_maze": (12, 12, 16),
    "wall": (58, 62, 82),
    "free": (224, 216, 192),
    "mouse": (110, 92, 84),
    "cheese": (250, 196, 36),
    "sign": (36, 168, 72),
}
"""RGB colours of each object in pictures and RGB observations."""

RGB_OBS_SIZE = 64
"""Side of the RGB observation, as in procgen."""


def symbolic_observation(state: MazeState) -> np.ndarray:
    """float32 [6, world, world] of 0/1, channels as in :data:`CHANNELS`."""
    n = state.world_size
    obs = np.zeros((len(CHANNELS), n, n), dtype=np.float32)
    inside = state.maze_mask()
    obs[0] = state.walls & inside
    obs[1] = ~state.walls
    obs[5] = ~inside
    obs[2][state.mouse] = 1.0
    obs[3][state.cheese] = 1.0
    if state.sign is not None:
        obs[4][state.sign] = 1.0
    return obs


def cell_colors(state: MazeState) -> np.ndarray:
    """uint8 [world, world, 3]: one flat colour per cell (objects painted over the floor)."""
    inside = state.maze_mask()
    img = np.empty((*state.walls.shape, 3), dtype=np.uint8)
    img[:] = COLORS["out_of_maze"]
    img[inside & state.walls] = COLORS["wall"]
    img[~state.walls] = COLORS["free"]
    if state.sign is not None:
        img[state.sign] = COLORS["sign"]
    img[state.cheese] = COLORS["cheese"]
    img[state.mouse] = COLORS["mouse"]
    return img


def rgb_observation(state: MazeState, size: int = RGB_OBS_SIZE) -> np.ndarray:
    """uint8 [size, size, 3]: the flat-colour map scaled to ``size`` by nearest neighbour."""
    idx = (np.arange(size) * state.world_size) // size
    return cell_colors(state)[idx][:, idx]


@lru_cache(maxsize=16)
def _disk(cell_px: int, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0:cell_px, 0:cell_px] + 0.5
    centre = cell_px / 2
    return (yy - centre) ** 2 + (xx - centre) ** 2 <= (radius * cell_px) ** 2


def render_picture(state: MazeState, cell_px: int = 24) -> np.ndarray:
    """uint8 [world*cell_px, world*cell_px, 3]: a picture for people.

    Walls and floor are flat squares; the sign is a green square, the cheese a yellow disk and
    the mouse a darker disk, so all three stay visible when they share a cell.
    """
    base = cell_colors(state)
    # Repaint object cells with the floor so shapes are drawn on it.
    floor = np.array(COLORS["free"], dtype=np.uint8)
    for cell in (state.mouse, state.cheese, state.sign):
        if cell is not None:
            base[cell] = floor
    img = np.repeat(np.repeat(base, cell_px, axis=0), cell_px, axis=1)

    def paint(cell: tuple[int, int], mask: np.ndarray, color: tuple[int, int, int]) -> None:
        r0, c0 = cell[0] * cell_px, cell[1] * cell_px
        block = img[r0 : r0 + cell_px, c0 : c0 + cell_px]
        block[mask] = color

    if state.sign is not None:
        inset = max(1, cell_px // 10)
        square = np.zeros((cell_px, cell_px), dtype=bool)
        square[inset:-inset, inset:-inset] = True
        paint(state.sign, square, COLORS["sign"])
    paint(state.cheese, _disk(cell_px, 0.32), COLORS["cheese"])
    paint(state.mouse, _disk(cell_px, 0.38), COLORS["mouse"])
    return img
