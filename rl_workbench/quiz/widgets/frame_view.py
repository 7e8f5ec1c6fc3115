"""An Atari frame in half-block pixels: each character cell shows two pixels, top and bottom.

``▀`` coloured with the upper pixel as foreground and the lower as background works in every
truecolour terminal and in snapshots, with no image protocol.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class FrameView(Widget):
    """Draws one grey frame [H, W] (uint8), sampled every ``stride`` pixels; pixels flagged in
    ``changed`` (any pixel of their stride block) are drawn red."""

    DEFAULT_CSS = "FrameView { width: auto; height: auto; }"

    frame: reactive[np.ndarray | None] = reactive(None, layout=True, always_update=True)

    def __init__(
        self,
        frame: np.ndarray | None = None,
        stride: int = 2,
        changed: np.ndarray | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.stride = stride
        self.changed = changed
        self.set_reactive(FrameView.frame, frame)

    def _pixels(self) -> np.ndarray:
        assert self.frame is not None
        return self.frame[:: self.stride, :: self.stride]

    def get_content_width(self, container, viewport) -> int:
        return 1 if self.frame is None else self._pixels().shape[1]

    def get_content_height(self, container, viewport, width) -> int:
        return 1 if self.frame is None else (self._pixels().shape[0] + 1) // 2

    def render(self) -> Text:
        if self.frame is None:
            return Text("")
        px: np.ndarray = self._pixels()
        red: np.ndarray = np.zeros(px.shape, dtype=bool)
        if self.changed is not None:
            k = self.stride
            h, w = int(px.shape[0]), int(px.shape[1])
            padded = np.zeros((h * k, w * k), dtype=bool)
            src = self.changed[: h * k, : w * k]
            padded[: src.shape[0], : src.shape[1]] = src
            red = np.asarray(padded.reshape(h, k, w, k).any(axis=(1, 3)))
        if px.shape[0] % 2:
            px = np.vstack([px, np.zeros((1, px.shape[1]), dtype=px.dtype)])
            red = np.vstack([red, np.zeros((1, red.shape[1]), dtype=bool)])

        def colour(value: int, flagged: bool) -> str:
            return "rgb(220,60,40)" if flagged else f"rgb({value},{value},{value})"

        text = Text()
        for r in range(0, px.shape[0], 2):
            for c in range(px.shape[1]):
                top = colour(int(px[r, c]), bool(red[r, c]))
                bottom = colour(int(px[r + 1, c]), bool(red[r + 1, c]))
                text.append("▀", style=f"{top} on {bottom}")
            if r + 2 < px.shape[0]:
                text.append("\n")
        return text
