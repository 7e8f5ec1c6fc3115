"""One picture per gridworld counterfactual (MiniGrid): minigrid's own drawings of both states,
each above the agent's action distribution, and the changed cells outlined."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .counterfactual_figure import bars
from .figures import titled_row


def _outlined(picture: np.ndarray, other: np.ndarray | None, tile: int) -> Image.Image:
    """The picture, with every tile that differs from ``other`` outlined in orange."""
    image = Image.fromarray(np.asarray(picture, dtype=np.uint8)).convert("RGB")
    if other is None or other.shape != picture.shape:
        return image
    draw = ImageDraw.Draw(image)
    differs = (
        (picture != other)
        .reshape(picture.shape[0] // tile, tile, picture.shape[1] // tile, tile, 3)
        .any(axis=(1, 3, 4))
    )
    for row, col in zip(*np.nonzero(differs), strict=True):
        box = (col * tile, row * tile, (col + 1) * tile - 1, (row + 1) * tile - 1)
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
    tile: int = 16,
) -> Image.Image:
    """Original and counterfactual side by side (RGB pictures from the domain), their changed
    tiles outlined, each with the agent's distribution under it."""

    def with_bars(img: Image.Image, probs: np.ndarray | None) -> Image.Image:
        chosen = None if probs is None else int(np.argmax(probs))
        under = bars(probs, action_names, max(img.width, 240), chosen)
        out = Image.new("RGB", (max(img.width, under.width), img.height + under.height), "white")
        out.paste(img, (0, 0))
        out.paste(under, (0, img.height))
        return out

    before = with_bars(_outlined(original, counterfactual, tile), probs_before)
    if counterfactual is None:
        blank = Image.new("RGB", (original.shape[1], original.shape[0]), (235, 235, 235))
        ImageDraw.Draw(blank).text((8, 8), "no counterfactual", fill="gray")
        after = with_bars(blank, None)
    else:
        after = with_bars(_outlined(counterfactual, original, tile), probs_after)
    return titled_row([(title_before, before), (title_after, after)])
