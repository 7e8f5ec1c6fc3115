"""One picture per counterfactual: original | counterfactual | what changed, with the agent's
action distribution before and after drawn as bars under the levels."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from rl_workbench.envs.maze import MazeState

from .figures import maze_image, titled_row

CHANGE_COLOR = (230, 40, 200)


def changed_cells(a: MazeState, b: MazeState) -> list[tuple[int, int]]:
    """Cells whose content differs between two levels."""
    cells = {tuple(map(int, c)) for c in zip(*np.nonzero(a.walls != b.walls), strict=True)}
    for x, y in ((a.cheese, b.cheese), (a.mouse, b.mouse), (a.sign, b.sign)):
        if x != y:
            cells |= {c for c in (x, y) if c is not None}
    return sorted(cells)  # type: ignore[arg-type]


def highlight(image: Image.Image, cells: list[tuple[int, int]], cell_px: int) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    width = max(2, cell_px // 8)
    for r, c in cells:
        draw.rectangle(
            (c * cell_px, r * cell_px, (c + 1) * cell_px - 1, (r + 1) * cell_px - 1),
            outline=CHANGE_COLOR,
            width=width,
        )
    return out


def bars(
    probs: np.ndarray | None, names: tuple[str, ...], width: int, chosen: int | None
) -> Image.Image:
    """Horizontal bars of an action distribution; the argmax action in bold colour."""
    row = 14
    img = Image.new("RGB", (width, row * len(names) + 4), "white")
    draw = ImageDraw.Draw(img)
    if probs is None:
        draw.text((2, 2), "no counterfactual", fill="gray")
        return img
    label_w = max(44, 7 * max(len(n) for n in names) + 6)  # Atari names are long
    for i, (name, p) in enumerate(zip(names, probs, strict=True)):
        y = 2 + i * row
        color = (200, 60, 40) if i == chosen else (120, 140, 170)
        draw.text((2, y), name, fill="black")
        draw.rectangle(
            (label_w, y + 2, label_w + int(p * (width - label_w - 36)), y + row - 3), fill=color
        )
        draw.text((width - 34, y), f"{p:.2f}", fill="black")
    return img


def above_bars(
    image: Image.Image, probs: np.ndarray | None, names: tuple[str, ...], bar_width: int
) -> Image.Image:
    """A picture with the agent's action distribution under it (the argmax bar coloured)."""
    chosen = None if probs is None else int(np.argmax(probs))
    under = bars(probs, names, bar_width, chosen)
    out = Image.new("RGB", (max(image.width, under.width), image.height + under.height), "white")
    out.paste(image, (0, 0))
    out.paste(under, (0, image.height))
    return out


def counterfactual_figure(
    original: MazeState,
    counterfactual: MazeState | None,
    probs_before: np.ndarray,
    probs_after: np.ndarray | None,
    action_names: tuple[str, ...],
    title_before: str,
    title_after: str,
    cell_px: int = 28,
) -> Image.Image:
    """The three panels with distributions under the first two."""
    left = maze_image(original, cell_px)
    if counterfactual is None:
        middle = Image.new("RGB", left.size, (235, 235, 235))
        diff = middle
    else:
        middle = maze_image(counterfactual, cell_px)
        diff = highlight(middle, changed_cells(original, counterfactual), cell_px)
    width = left.width
    chosen_after = None if probs_after is None else int(np.argmax(probs_after))

    def stack(img: Image.Image, under: Image.Image) -> Image.Image:
        out = Image.new("RGB", (width, img.height + under.height), "white")
        out.paste(img, (0, 0))
        out.paste(under, (0, img.height))
        return out

    blank = Image.new("RGB", (width, 14 * len(action_names) + 4), "white")
    return titled_row(
        [
            (
                title_before,
                stack(left, bars(probs_before, action_names, width, int(np.argmax(probs_before)))),
            ),
            (title_after, stack(middle, bars(probs_after, action_names, width, chosen_after))),
            ("changed cells", stack(diff, blank)),
        ]
    )
