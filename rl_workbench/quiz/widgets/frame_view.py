"""An Atari frame stack in half-block pixels: each character cell shows two pixels, top and bottom.

``▀`` coloured with the upper pixel as foreground and the lower as background works in every
truecolour terminal and in snapshots, with no image protocol. Why the choices below (issue 14: a
person could not find the cannon or the shots when every third pixel was drawn at the frames'
own, dim grey levels):

- every pixel, when the terminal has room (84 columns and 42 rows per frame); otherwise every
  second one, and the screen says how large a terminal shows all of them;
- full contrast: the stack's grey levels are stretched so its brightest pixel is white (the
  preprocessed frames use a narrow band of dark greys);
- all four frames of the stack, one at a time (``f`` steps through them, oldest to newest), so
  motion can be read as the agent reads it.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

FULL_SIZE = (84, 42)
"""(columns, rows) of one 84x84 frame drawn with every pixel."""


def contrast_scale(stack: np.ndarray) -> float:
    """The factor that makes the stack's brightest pixel white (1 for an all-black stack)."""
    top = int(stack.max()) if stack.size else 0
    return 255.0 / top if top else 1.0


class FrameView(Widget):
    """Draws one frame of a grey stack [H, W, F] (uint8), every ``stride``-th pixel, stretched
    by ``scale`` (see :func:`contrast_scale`); ``index`` picks the frame (default: the newest)."""

    DEFAULT_CSS = "FrameView { width: auto; height: auto; }"

    stride: reactive[int] = reactive(1, layout=True)
    index: reactive[int] = reactive(-1)

    def __init__(
        self, stack: np.ndarray, stride: int = 1, scale: float | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.stack = stack if stack.ndim == 3 else stack[..., None]
        self.scale = contrast_scale(self.stack) if scale is None else scale
        self.set_reactive(FrameView.stride, stride)

    @property
    def frames(self) -> int:
        return int(self.stack.shape[-1])

    @property
    def frame_number(self) -> int:
        """1-based number of the frame shown (frames counts from the oldest)."""
        return self.index % self.frames + 1

    def _pixels(self) -> np.ndarray:
        frame = self.stack[..., self.index % self.frames]
        return frame[:: self.stride, :: self.stride]

    def get_content_width(self, container, viewport) -> int:
        return int(self._pixels().shape[1])

    def get_content_height(self, container, viewport, width) -> int:
        return (int(self._pixels().shape[0]) + 1) // 2

    def render(self) -> Text:
        px = np.clip(self._pixels().astype(np.float32) * self.scale, 0, 255).astype(np.uint8)
        if px.shape[0] % 2:
            px = np.vstack([px, np.zeros((1, px.shape[1]), dtype=px.dtype)])
        text = Text()
        for r in range(0, px.shape[0], 2):
            for c in range(px.shape[1]):
                top, bottom = int(px[r, c]), int(px[r + 1, c])
                text.append("▀", style=f"rgb({top},{top},{top}) on rgb({bottom},{bottom},{bottom})")
            if r + 2 < px.shape[0]:
                text.append("\n")
        return text
