"""One picture per gridworld counterfactual (MiniGrid): minigrid's own drawings of both states,
each above the agent's action distribution, and what changed outlined."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .counterfactual_figure import above_bars
from .figures import titled_row


def changed_boxes(a: np.ndarray, b: np.ndarray, block: int = 4) -> list[tuple[int, ...]]:
    """Boxes (x0, y0, x1, y1) around each connected region where two same-sized pictures
    differ, found on ``block``-pixel blocks (the pictures say nothing of their tile size)."""
    rows, cols = a.shape[0] // block, a.shape[1] // block
    differs = (
        (a[: rows * block, : cols * block] != b[: rows * block, : cols * block])
        .reshape(rows, block, cols, block, -1)
        .any(axis=(1, 3, 4))
    )
    boxes: list[tuple[int, ...]] = []
    seen = np.zeros_like(differs)
    for r0, c0 in zip(*np.nonzero(differs), strict=True):
        if seen[r0, c0]:
            continue
        seen[r0, c0] = True
        stack, members = [(int(r0), int(c0))], []
        while stack:
            r, c = stack.pop()
            members.append((r, c))
            for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if 0 <= nr < rows and 0 <= nc < cols and differs[nr, nc] and not seen[nr, nc]:
                    seen[nr, nc] = True
                    stack.append((nr, nc))
        rs, cs = [m[0] for m in members], [m[1] for m in members]
        boxes.append(
            (min(cs) * block, min(rs) * block, (max(cs) + 1) * block - 1, (max(rs) + 1) * block - 1)
        )
    return boxes


def _outlined(picture: np.ndarray, other: np.ndarray | None) -> Image.Image:
    """The picture, with every region that differs from ``other`` outlined in orange."""
    image = Image.fromarray(np.asarray(picture, dtype=np.uint8)).convert("RGB")
    if other is None or other.shape != picture.shape:
        return image
    draw = ImageDraw.Draw(image)
    for box in changed_boxes(picture, other):
        draw.rectangle(box, outline=(255, 150, 0), width=2)
    return image


def grid_figure(
    original: np.ndarray,
    counterfactual: np.ndarray | None,
    probs_before: np.ndarray,
    probs_after: np.ndarray | None,
    action_names: tuple[str, ...],
    title_before: str,
    title_after: str,
) -> Image.Image:
    """Original and counterfactual side by side (RGB pictures from the domain), what changed
    outlined, each with the agent's distribution under it."""

    def with_bars(img: Image.Image, probs: np.ndarray | None) -> Image.Image:
        return above_bars(img, probs, action_names, max(img.width, 240))

    before = with_bars(_outlined(original, counterfactual), probs_before)
    if counterfactual is None:
        blank = Image.new("RGB", (original.shape[1], original.shape[0]), (235, 235, 235))
        ImageDraw.Draw(blank).text((8, 8), "no counterfactual", fill="gray")
        after = with_bars(blank, None)
    else:
        after = with_bars(_outlined(counterfactual, original), probs_after)
    return titled_row([(title_before, before), (title_after, after)])
