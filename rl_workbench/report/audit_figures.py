"""Plots of an audit: outcome rates with intervals, and histograms of decision-square odds."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

BAR_COLORS = {"TRUE": (60, 140, 80), "PROXY": (200, 60, 40), "NEITHER": (150, 150, 150)}


def rate_bars(
    rates: Sequence[tuple[str, float | None, float, float]], title: str, width: int = 360
) -> Image.Image:
    """Vertical bars (label, rate, low, high) on a 0-1 axis, each with its interval whisker."""
    height, top, bottom, left = 220, 28, 30, 34
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), title, fill="black")
    plot_h = height - top - bottom
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        draw.line((left, y, width - 6, y), fill=(225, 225, 225))
        draw.text((4, y - 6), f"{frac:.1f}", fill="gray")
    slot = (width - left - 6) / max(1, len(rates))
    for i, (label, rate, low, high) in enumerate(rates):
        x0 = left + i * slot + slot * 0.2
        x1 = left + (i + 1) * slot - slot * 0.2
        color = BAR_COLORS.get(label, (90, 120, 170))
        if rate is not None:
            draw.rectangle((x0, top + plot_h * (1 - rate), x1, top + plot_h), fill=color)
            xm = (x0 + x1) / 2
            y_low, y_high = top + plot_h * (1 - low), top + plot_h * (1 - high)
            draw.line((xm, y_low, xm, y_high), fill="black", width=2)
            draw.line((xm - 5, y_low, xm + 5, y_low), fill="black")
            draw.line((xm - 5, y_high, xm + 5, y_high), fill="black")
            draw.text((x0, top + plot_h + 14), f"{rate:.2f}", fill="black")
        draw.text((x0, top + plot_h + 2), label, fill="black")
    return img


def histogram(
    values: np.ndarray,
    title: str,
    bins: int = 10,
    width: int = 360,
    lo: float = 0.0,
    hi: float = 1.0,
) -> Image.Image:
    """A histogram of values in [lo, hi] with counts above the bars."""
    height, top, bottom, left = 200, 28, 24, 10
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), title, fill="black")
    counts, edges = np.histogram(np.clip(values, lo, hi), bins=bins, range=(lo, hi))
    plot_h = height - top - bottom
    peak = max(1, int(counts.max()) if counts.size else 1)
    slot = (width - 2 * left) / bins
    for i, c in enumerate(counts):
        x0, x1 = left + i * slot + 1, left + (i + 1) * slot - 1
        draw.rectangle((x0, top + plot_h * (1 - c / peak), x1, top + plot_h), fill=(90, 120, 170))
        if c:
            draw.text((x0 + 2, top + plot_h * (1 - c / peak) - 12), str(int(c)), fill="black")
    draw.text((left, height - 16), f"{edges[0]:.1f}", fill="gray")
    draw.text((width - 30, height - 16), f"{edges[-1]:.1f}", fill="gray")
    return img


def detection_plot(
    groups: Sequence[tuple[str, Sequence[tuple[float, float, float]]]],
    title: str,
    threshold: float | None = None,
    width: int = 560,
) -> Image.Image:
    """Each group's agents as dots with their interval whiskers on a 0-1 axis, side by side.

    ``groups`` is (label, [(score, low, high), ...]); a grey line marks ``threshold``. This is
    the population audit's picture: do agents trained on a proxy score apart from controls?
    """
    top, left, plot_h = 28, 34, 188
    slot = (width - left - 6) / max(1, len(groups))
    labels = [_label_lines(label, max(4, int(slot / 6.5))) for label, _ in groups]
    rows = max([2, *(len(lines) for lines in labels)])  # the most lines any label needs
    height = top + plot_h + 32 + 12 * rows
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    # The threshold is named in the title: a label on its line would sit on some group's dots.
    rule = "" if threshold is None else f" (grey line: threshold {threshold:.2f})"
    draw.text((4, 4), title + rule, fill="black")
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - frac)
        draw.line((left, y, width - 6, y), fill=(225, 225, 225))
        draw.text((4, y - 6), f"{frac:.2f}", fill="gray")
    if threshold is not None:
        y = top + plot_h * (1 - threshold)
        draw.line((left, y, width - 6, y), fill=(150, 150, 150), width=2)
    for i, ((_, points), lines) in enumerate(zip(groups, labels, strict=True)):
        x0 = left + i * slot
        n = max(1, len(points))
        for j, (score, low, high) in enumerate(points):
            x = x0 + slot * (0.15 + 0.7 * (j + 0.5) / n)
            y_low, y_high = top + plot_h * (1 - low), top + plot_h * (1 - high)
            draw.line((x, y_low, x, y_high), fill=(120, 120, 120))
            y = top + plot_h * (1 - score)
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(200, 60, 40))
        if points:
            mean = sum(p[0] for p in points) / len(points)
            y = top + plot_h * (1 - mean)
            draw.line((x0 + slot * 0.1, y, x0 + slot * 0.9, y), fill="black", width=2)
        for k, line in enumerate(lines):
            draw.text((x0 + 2, top + plot_h + 8 + 12 * k), line, fill="black")
        draw.text((x0 + 2, top + plot_h + 10 + 12 * rows), f"n={len(points)}", fill="gray")
    return img


def _label_lines(label: str, chars: int) -> list[str]:
    """Lines of at most ``chars``: a condition such as "MiniGrid-GoalBallAway[size=8]" breaks
    before its arguments, and long arguments after their commas ("[max_size=15,",
    "sign=independent]"), so neighbouring slots' labels do not run into each other and no
    argument that fits a line is cut. A name without arguments is cut to two lines."""
    head, sep, args = label.partition("[")
    if len(label) <= chars:
        return [label]
    if not sep:
        return [line for line in (label[:chars], label[chars : 2 * chars]) if line]
    lines, current = [head], ""
    for part in re.split(r"(?<=,)", sep + args):
        if current and len(current) + len(part) > chars:
            lines.append(current)
            current = ""
        current += part
    lines.append(current)
    return [line[:chars] for line in lines if line]
