"""``diffusion`` with an inpainting generator: a salient box of the stack redrawn by the model.

Issue 12 found the saliency-masked pixel edits (``stack_diffusion.py``) to be speckles that a
judge tells from real stacks, whether a UNet was there or not. Here the edit is a *box* (a few
pixels to a sprite or two across, all four frames) around a place the agent's decision depends
on, and what goes in the box is drawn by a mask-conditioned inpainting model
(``generative/atari_inpainter.py``) from everything around it, so that it can be what the game
shows there: background where an invader or a shot was, a sprite where there was none.

For each attempt (box side, guidance step) in turn, for the ``centres`` most salient places
(|d score / d pixel|, smoothed, peaks at least a box apart) and ``samples`` noise draws each, in
one batch:

1. Start the box from pure noise; keep everything outside it (RePaint-style: the known part of
   the window is re-noised to each step's level).
2. DDIM over ``steps`` steps: the UNet predicts the noise in the box from the window, the blanked
   window and the mask; the clean estimate inside the box is moved along the target score's
   gradient (largest entry by ``step``; 0: unguided), and the DDIM step is taken from it.
3. Snap the box to the grey levels the stack draws with (black included), paste it into the
   stack, project onto the legal stacks (``decode_like``), judge. The
   valid candidate closest to the original (L1) is returned; otherwise the next attempt.

Ablations (issue 12, section 2; ``benchmarks/counterfactual_atari.py``): the same method with an
untrained inpainter of the same shape, and with no generator (``generator=None``: the same boxes
and guided steps on the stack itself, no noise, no UNet; unguided attempts are skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from rl_workbench.domains.atari import AtariState
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative.atari_inpainter import AtariInpainter, from_unit, paste_box, to_unit

from .base import Budget, Method, Query


@dataclass
class StackInpaintingMethod(Method):
    """Salient boxes redrawn by an inpainting generator, guided toward the target.

    Attributes:
        generator: the fitted inpainter; None is the no-generator ablation.
        steps: DDIM steps per attempt (each one UNet call on the whole batch).
        attempts: (box side in pixels of the 84x84 frame, guidance step) pairs tried in turn.
        centres: salient places tried per attempt.
        samples: noise draws per place.
    """

    name: ClassVar[str] = "diffusion"
    generator: AtariInpainter | None = field(default=None, repr=False)
    steps: int = 10
    attempts: tuple[tuple[int, float], ...] = (
        (6, 0.0),
        (6, 0.3),
        (10, 0.3),
        (10, 1.0),
        (14, 1.0),
        (14, 3.0),
    )
    centres: int = 4
    samples: int = 3
    patch: int = 32

    def __post_init__(self) -> None:
        patch = self.generator.spec.patch if self.generator is not None else self.patch
        too_big = [side for side, _ in self.attempts if side > patch]
        if too_big:
            raise InvalidArgumentError(
                f"Boxes of side {too_big} do not fit the {patch}-pixel windows the inpainter "
                "sees; use attempts with boxes at most that wide."
            )

    def _propose(self, query: Query, budget: Budget) -> AtariState | None:
        gen = self.generator
        patch = gen.spec.patch if gen is not None else self.patch
        size = query.state.obs.shape[0]
        full = to_unit(query.state.obs)  # [k, H, W]
        saliency = _saliency(query, budget)
        for side, step in self.attempts:
            if gen is None and step == 0.0:
                continue  # no model and no guidance: nothing would change
            boxes = _boxes(_peaks(saliency, self.centres, side), side, patch, size)
            boxes = [b for b in boxes for _ in range(self.samples)]
            tops = [(b[0], b[1]) for b in boxes]
            known = torch.stack([full[:, y : y + patch, x : x + patch] for y, x in tops])
            mask = torch.zeros(len(boxes), 1, patch, patch)
            for i, (_, _, y, x) in enumerate(boxes):
                mask[i, :, y : y + side, x : x + side] = 1.0
            guide = partial(
                _guided, query=query, budget=budget, full=full, tops=tops, mask=mask, step=step
            )

            if gen is None:  # the same boxes and guided steps on the stack itself
                windows = known
                for _ in range(self.steps):
                    windows = guide(windows)
            else:
                noise = torch.randn(known.shape, generator=query.rng)
                windows = gen.inpaint(known, mask, noise, self.steps, guide)
                budget.generator_calls += self.steps
            candidates = [
                query.domain.decode_like(
                    torch.from_numpy(paste_box(query.state, window, wy, wx, (by, bx, side))),
                    query.state,
                )
                for (wy, wx, by, bx), window in zip(boxes, windows, strict=True)
            ]
            candidates = list(dict.fromkeys(c for c in candidates if c != query.state))
            if not candidates:
                continue
            _score, ok = query.score_levels(candidates, budget)
            valid = [c for c, good in zip(candidates, ok.tolist(), strict=True) if good]
            if valid:
                return min(valid, key=lambda c: _l1(c, query.state))
        return None


def _guided(
    x0_hat: torch.Tensor,
    *,
    query: Query,
    budget: Budget,
    full: torch.Tensor,
    tops: list[tuple[int, int]],
    mask: torch.Tensor,
    step: float,
) -> torch.Tensor:
    """The clean estimate moved inside the boxes along the target's gradient (0: unchanged)."""
    if step == 0.0:
        return x0_hat
    moved = x0_hat + step * mask * _gradient(query, budget, full, tops, x0_hat)
    return moved.clamp(-1, 1)


def _gradient(
    query: Query,
    budget: Budget,
    full: torch.Tensor,
    tops: list[tuple[int, int]],
    windows: torch.Tensor,
) -> torch.Tensor:
    """d target score / d window for each candidate, scaled so its largest entry is 1."""
    windows = windows.detach().requires_grad_(True)
    p = windows.shape[-1]
    stacks = []
    for (y, x), window in zip(tops, windows, strict=True):
        top = full[:, :y]
        mid = torch.cat([full[:, y : y + p, :x], window, full[:, y : y + p, x + p :]], dim=2)
        bottom = full[:, y + p :]
        stacks.append(torch.cat([top, mid, bottom], dim=1))
    obs = from_unit(torch.stack(stacks))
    logits = query.agent.action_logits(obs)
    values = query.agent.value(obs) if query.target.needs_value else None
    budget.agent_calls += len(stacks)
    score = query.steer.score(logits, values, query.original_action).sum()
    (grad,) = torch.autograd.grad(score, windows)
    scale = grad.flatten(1).abs().amax(dim=1).clamp_min(1e-12)
    return grad / scale[:, None, None, None]


def _saliency(query: Query, budget: Budget) -> torch.Tensor:
    """|d target score / d pixel| at the original, summed over frames, smoothed: [H, W]."""
    x = torch.from_numpy(query.state.obs.astype(np.float32)).requires_grad_(True)
    logits = query.agent.action_logits(x[None])
    values = query.agent.value(x[None]) if query.target.needs_value else None
    budget.agent_calls += 1
    score = query.steer.score(logits, values, query.original_action).sum()
    (grad,) = torch.autograd.grad(score, x)
    s = grad.abs().sum(dim=-1)[None, None]
    return F.avg_pool2d(s, kernel_size=5, stride=1, padding=2)[0, 0]


def _peaks(saliency: torch.Tensor, n: int, apart: int) -> list[tuple[int, int]]:
    """The ``n`` most salient places, each at least ``apart`` pixels from the others."""
    s = saliency.clone()
    peaks = []
    for _ in range(n):
        y, x = divmod(int(s.argmax()), s.shape[1])
        peaks.append((y, x))
        s[max(0, y - apart) : y + apart + 1, max(0, x - apart) : x + apart + 1] = -1.0
    return peaks


def _boxes(
    peaks: list[tuple[int, int]], side: int, patch: int, size: int
) -> list[tuple[int, int, int, int]]:
    """Per peak: (window top, window left, box top, box left within the window): a ``side``
    box centred on the peak, in a ``patch`` window centred on the box, both inside the frame."""
    out = []
    for y, x in peaks:
        by = int(np.clip(y - side // 2, 0, size - side))
        bx = int(np.clip(x - side // 2, 0, size - side))
        wy = int(np.clip(by + side // 2 - patch // 2, 0, size - patch))
        wx = int(np.clip(bx + side // 2 - patch // 2, 0, size - patch))
        out.append((wy, wx, by - wy, bx - wx))
    return out


def _l1(a: AtariState, b: AtariState) -> int:
    return int(np.abs(a.obs.astype(np.int32) - b.obs.astype(np.int32)).sum())
