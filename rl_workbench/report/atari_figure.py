"""One picture per Atari counterfactual: both frame stacks enlarged and where they differ."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .counterfactual_figure import above_bars
from .figures import titled_row


def stack_strip(obs: np.ndarray, scale: int = 2, gap_value: int = 255) -> Image.Image:
    """The k frames of a uint8 [H, W, k] stack side by side, oldest left, enlarged."""
    frames = [
        np.kron(obs[..., i], np.ones((scale, scale), dtype=np.uint8)) for i in range(obs.shape[-1])
    ]
    gap = np.full((frames[0].shape[0], 4), gap_value, dtype=np.uint8)
    row = np.concatenate([x for f in frames for x in (f, gap)][:-1], axis=1)
    return Image.fromarray(row).convert("RGB")


def heat_map(a: np.ndarray, b: np.ndarray, scale: int = 2) -> Image.Image:
    """Per-frame |difference| in red over the counterfactual stack in grey."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.float32)
    strip = np.asarray(stack_strip(b, scale)).astype(np.float32) * 0.5
    scaled = (diff * (255.0 / max(diff.max(), 1.0))).astype(np.uint8)
    d = np.asarray(stack_strip(scaled, scale, gap_value=0))
    strip[..., 0] = np.clip(strip[..., 0] + d[..., 0], 0, 255)
    return Image.fromarray(strip.astype(np.uint8))


def atari_figure(
    original: np.ndarray,
    counterfactual: np.ndarray | None,
    probs_before: np.ndarray,
    probs_after: np.ndarray | None,
    action_names: tuple[str, ...],
    title_before: str,
    title_after: str,
) -> Image.Image:
    """Original stack with its distribution, counterfactual stack with its, and the heat map."""
    top = stack_strip(original)
    width = top.width

    def with_bars(img: Image.Image, probs: np.ndarray | None) -> Image.Image:
        return above_bars(img, probs, action_names, min(width, 360))

    if counterfactual is None:
        middle = Image.new("RGB", top.size, (235, 235, 235))
        ImageDraw.Draw(middle).text((8, 8), "no counterfactual", fill="gray")
        diff = middle
    else:
        middle, diff = stack_strip(counterfactual), heat_map(original, counterfactual)
    sheet_rows = [
        titled_row([(title_before, with_bars(top, probs_before))]),
        titled_row([(title_after, with_bars(middle, probs_after))]),
        titled_row([("difference (red), frames oldest to newest", diff)]),
    ]
    height = sum(r.height for r in sheet_rows)
    sheet = Image.new("RGB", (max(r.width for r in sheet_rows), height), "white")
    y = 0
    for r in sheet_rows:
        sheet.paste(r, (0, y))
        y += r.height
    return sheet


def stack_animation(
    original: np.ndarray, counterfactual: np.ndarray | None, scale: int = 3
) -> list[Image.Image]:
    """GIF frames: frame i of the original | of the counterfactual | their difference in red.

    Played in a loop, the stack moves as the agent saw it, so a person sees motion (a bullet's
    path, a paddle's direction) that one still frame hides.
    """
    frames = []
    k = original.shape[-1]
    for i in range(k):
        panels = [stack_strip(original[..., i : i + 1], scale)]
        if counterfactual is not None:
            panels.append(stack_strip(counterfactual[..., i : i + 1], scale))
            panels.append(heat_map(original[..., i : i + 1], counterfactual[..., i : i + 1], scale))
        gap = 6
        width = sum(p.width for p in panels) + gap * (len(panels) - 1)
        sheet = Image.new("RGB", (width, panels[0].height + 16), "white")
        x = 0
        for p in panels:
            sheet.paste(p, (x, 16))
            x += p.width + gap
        label = f"frame {i + 1}/{k}: original" + (
            " | counterfactual | difference" if counterfactual is not None else ""
        )
        ImageDraw.Draw(sheet).text((2, 2), label, fill="black")
        frames.append(sheet)
    return frames
