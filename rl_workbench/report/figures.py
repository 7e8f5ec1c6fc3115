"""Pictures of mazes for people: the level, a path through it, the agent's vector field.

Everything is drawn with Pillow on top of the env's own picture, so figures match what the env
renders and need no plotting library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from rl_workbench.envs.maze import MOVES, MazeState, render_picture

PATH_COLOR = (220, 50, 60)
ARROW_COLOR = (30, 90, 200)
TITLE_HEIGHT = 22


def maze_image(state: MazeState, cell_px: int = 32) -> Image.Image:
    """The level as the env renders it for people."""
    return Image.fromarray(render_picture(state, cell_px))


def _centre(cell: tuple[int, int], cell_px: int) -> tuple[float, float]:
    return ((cell[1] + 0.5) * cell_px, (cell[0] + 0.5) * cell_px)


def draw_path(
    image: Image.Image, path: Sequence[tuple[int, int]], cell_px: int, color=PATH_COLOR
) -> Image.Image:
    """Draw the mouse's path as a line through cell centres (start marked with a ring)."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    points = [_centre(c, cell_px) for c in path]
    if len(points) > 1:
        draw.line(points, fill=color, width=max(2, cell_px // 8), joint="curve")
    if points:
        x, y = points[0]
        r = cell_px * 0.45
        draw.ellipse((x - r, y - r, x + r, y + r), outline=color, width=max(2, cell_px // 12))
    return out


def draw_vector_field(
    image: Image.Image,
    cells: Sequence[tuple[int, int]],
    probs: np.ndarray,
    cell_px: int,
    color=ARROW_COLOR,
) -> Image.Image:
    """Draw, on every cell, the agent's expected move: sum over actions of p(a) * direction(a).

    Arrow length is proportional to the length of that mean vector, so a confident policy draws
    long arrows and an undecided one short ones.
    """
    out = image.copy()
    draw = ImageDraw.Draw(out)
    directions = np.array([(dc, dr) for dr, dc in MOVES], dtype=float)  # (x, y) per action
    for cell, p in zip(cells, probs, strict=True):
        vec = p[: len(MOVES)] @ directions
        length = float(np.hypot(*vec))
        if length < 1e-3:
            continue
        x0, y0 = _centre(cell, cell_px)
        scale = 0.45 * cell_px
        x1, y1 = x0 + vec[0] * scale, y0 + vec[1] * scale
        draw.line((x0, y0, x1, y1), fill=color, width=max(1, cell_px // 14))
        angle = math.atan2(y1 - y0, x1 - x0)
        head = max(3.0, 0.22 * cell_px * min(1.0, length * 1.5))
        for side in (2.6, -2.6):
            draw.line(
                (x1, y1, x1 + head * math.cos(angle + side), y1 + head * math.sin(angle + side)),
                fill=color,
                width=max(1, cell_px // 14),
            )
    return out


def titled_row(panels: Sequence[tuple[str, Image.Image]], gap: int = 8) -> Image.Image:
    """Panels side by side, each with a title above it, on a white background; a title longer
    than its panel is wrapped onto more lines (object edits said in words can run long)."""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    wrapped = [_wrap(draw, title, panel.width) for title, panel in panels]
    lines = max(len(w) for w in wrapped)
    title_height = TITLE_HEIGHT + (lines - 1) * (TITLE_HEIGHT - 6)
    width = sum(p.width for _, p in panels) + gap * (len(panels) + 1)
    height = max(p.height for _, p in panels) + title_height + 2 * gap
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    x = gap
    for title_lines, (_, panel) in zip(wrapped, panels, strict=True):
        draw.multiline_text((x, gap // 2 + 2), "\n".join(title_lines), fill="black")
        sheet.paste(panel, (x, title_height + gap))
        x += panel.width + gap
    return sheet


def _wrap(draw: ImageDraw.ImageDraw, text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels (a longer word keeps
    its own line)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and draw.textlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]
