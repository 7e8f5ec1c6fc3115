"""``diffusion`` with an inpainting generator: a salient box of the stack redrawn by the model.

Issue 12 found the saliency-masked pixel edits (``stack_diffusion.py``) to be speckles that a
judge tells from real stacks, whether a UNet was there or not. Here the edit is a *box* (a few
pixels to a sprite or two across, all four frames) around a place the agent's decision depends
on, and what goes in the box is drawn by a mask-conditioned inpainting model
(``generative/atari_inpainter.py``) from everything around it, so that it can be what the game
shows there: background where an invader or a shot was, a sprite where there was none.

For each attempt (box sides, guidance step) in turn, for the ``centres`` most salient places
(|d score / d pixel|, smoothed, peaks at least a box apart), every box side of the attempt and
``samples`` noise draws each, in one batch (one UNet call per DDIM step for all of them):

1. Start the box from pure noise; keep everything outside it (RePaint-style: the known part of
   the window is re-noised to each step's level).
2. DDIM over ``steps`` steps: the UNet predicts the noise in the box from the window, the blanked
   window and the mask; the clean estimate inside the box is moved along the target score's
   gradient (largest entry by ``step``; 0: unguided), and the DDIM step is taken from it.
3. Snap the box to the grey levels the stack draws with (black included), paste it into the
   stack, project onto the legal stacks (``decode_like``), judge. The
   valid candidate closest to the original (L1) is returned; otherwise the next attempt.

The attempts go breadth first: every box size unguided, then every size lightly guided, and only
then stronger pushes on the larger boxes, because the flips a lighter attempt finds are the ones
that look like the game (``benchmarks/inpainting_attempts.py`` measures the trade; BENCHMARKS.md).

``prefer="persistent"`` keeps, among an attempt's valid candidates, the closest one whose flip
survives a light noise-and-denoise of its box by the same inpainter (DP-DQN's purification,
strength ``purify``), and goes on to the next attempt when none does (the closest flip that did
not persist is the fallback). Its flips move independently trained agents more often, and they
are easier to tell from real stacks: a choice, measured, not the default. ``prefer="purified"``
returns that noised-and-denoised stack itself (the flip checked on it), so that the inpainter
draws the final pixels of the box; measured, it is told from real stacks as often as the default
(BENCHMARKS.md), because a light redraw keeps the guided box's layout.

With an inpainter conditioned on the agent's action (``AtariInpainterSpec.actions``), each box is
drawn for one wanted action (the named target; for ``any``, the other actions, the agent's
likelier ones first) by classifier-free guidance of scale ``label_scale``. Measured on Space
Invaders, the label moves a fine-tuned model's estimate by under 1.2% and flips no more states than
the unconditioned model (BENCHMARKS.md): a box and its window say too little about the action.

Ablations (issue 12, section 2; ``benchmarks/counterfactual_atari.py``): the same method with an
untrained inpainter of the same shape, and with no generator (``generator=None``: the same boxes
and guided steps on the stack itself, no noise, no UNet; unguided attempts are skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F

from rl_workbench.domains.atari import AtariState
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative.atari_inpainter import AtariInpainter, from_unit, paste_box, to_unit

from .base import Budget, Method, Query

Attempt = tuple[int | tuple[int, ...], float]
"""(box side or sides, guidance step): one batch of boxes drawn with the same guidance."""
DEFAULT_ATTEMPTS: tuple[Attempt, ...] = (
    ((6, 10, 14), 0.0),
    ((6, 10, 14), 0.3),
    ((10, 14), 1.0),
    ((14, 20), 3.0),
)
"""Breadth first (module docstring); measured in BENCHMARKS.md against the earlier schedule."""
Box = tuple[int, int, int, int, int]
"""(window top, window left, box top and box left within the window, box side)."""


@dataclass
class StackInpaintingMethod(Method):
    """Salient boxes redrawn by an inpainting generator, guided toward the target.

    Attributes:
        generator: the fitted inpainter; None is the no-generator ablation.
        steps: DDIM steps per attempt (each one UNet call on the whole batch).
        attempts: (box side or sides in pixels of the 84x84 frame, guidance step) pairs tried
            in turn; the sides of one attempt share its batch. None: ``DEFAULT_ATTEMPTS``
            without the boxes wider than the inpainter's window.
        centres: salient places tried per attempt and side.
        samples: noise draws per place and side.
        prefer: ``closest`` (L1) valid candidate, the closest ``persistent`` one, or the
            ``purified`` redraw of the closest persistent one (the generator's own pixels).
        purify: the noise level of the persistence check (``prefer`` not ``closest``).
        label_scale: with an action-conditioned inpainter, the classifier-free guidance scale
            toward the target action (a named target: that action; ``any``: the other actions,
            the agent's likelier ones first, one per sample).
        schedule: the attempts actually tried (``attempts`` resolved against the window).
    """

    name: ClassVar[str] = "diffusion"
    generator: AtariInpainter | None = field(default=None, repr=False)
    steps: int = 10
    attempts: tuple[Attempt, ...] | None = None
    centres: int = 4
    samples: int = 2
    patch: int = 32
    prefer: Literal["closest", "persistent", "purified"] = "closest"
    purify: float = 0.3
    label_scale: float = 3.0
    schedule: tuple[Attempt, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.prefer not in ("closest", "persistent", "purified"):
            raise InvalidArgumentError(
                f"prefer must be 'closest', 'persistent' or 'purified', got {self.prefer!r}."
            )
        if self.label_scale < 0.0:
            raise InvalidArgumentError(
                f"label_scale must be 0 (unlabelled) or more, got {self.label_scale}."
            )
        if not 0.0 < self.purify < 1.0:
            raise InvalidArgumentError(f"purify must be in (0, 1), got {self.purify}.")
        patch = self.generator.spec.patch if self.generator is not None else self.patch
        if self.attempts is None:  # the default schedule, less boxes wider than the window
            self.schedule = tuple(
                (tuple(s for s in _sides(sides) if s <= patch), step)
                for sides, step in DEFAULT_ATTEMPTS
            )
        else:
            self.schedule = tuple(self.attempts)
        too_big = [s for sides, _ in self.schedule for s in _sides(sides) if s > patch]
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
        wanted = (_wanted_actions(query) or None) if gen is not None and gen.conditioned else None
        fallback: AtariState | None = None  # a flip that did not persist, if nothing better
        for sides, step in self.schedule:
            if gen is None and step == 0.0:
                continue  # no model and no guidance: nothing would change
            boxes = [
                (*box, side)
                for side in _sides(sides)
                for box in _boxes(_peaks(saliency, self.centres, side), side, patch, size)
                for _ in range(self.samples)
            ]
            labels = (
                None
                if wanted is None
                else torch.tensor(
                    [wanted[i % self.samples % len(wanted)] for i in range(len(boxes))]
                )
            )
            tops = [(b[0], b[1]) for b in boxes]
            known = torch.stack([full[:, y : y + patch, x : x + patch] for y, x in tops])
            mask = _masks(boxes, patch)
            guide = partial(
                _guided,
                gradient=partial(self._target_gradient, query, budget, full, tops),
                mask=mask,
                step=step,
            )

            if gen is None:  # the same boxes and guided steps on the stack itself
                windows = known
                for _ in range(self.steps):
                    windows = guide(windows)
            else:
                noise = torch.randn(known.shape, generator=query.rng)
                windows = gen.inpaint(
                    known,
                    mask,
                    noise,
                    self.steps,
                    guide,
                    labels=labels,
                    label_scale=self.label_scale,
                )
                # classifier-free guidance evaluates the UNet twice per step (one batch)
                budget.generator_calls += self.steps * (2 if labels is not None else 1)
            made: dict[AtariState, Box] = {}
            for box, window in zip(boxes, windows, strict=True):
                candidate = _paste(query, box, window)
                if candidate != query.state:
                    made.setdefault(candidate, box)
            if not made:
                continue
            candidates = list(made)
            _score, ok = query.score_levels(candidates, budget)
            valid = [c for c, good in zip(candidates, ok.tolist(), strict=True) if good]
            if not valid:
                continue
            closest = sorted(valid, key=lambda c: _l1(c, query.state))
            if self.prefer == "closest" or gen is None:
                return closest[0]
            kept = self._persistent(query, budget, gen, closest, [made[c] for c in closest])
            if kept is not None:
                return kept
            fallback = fallback or closest[0]
        return fallback

    def _target_gradient(
        self,
        query: Query,
        budget: Budget,
        full: torch.Tensor,
        tops: list[tuple[int, int]],
        windows: torch.Tensor,
    ) -> torch.Tensor:
        """The direction the guided attempts move each box's clean estimate in: d target score /
        d window for each candidate, scaled so its largest entry is 1. A method: benchmarks probe
        other objectives by overriding it."""
        windows = windows.detach().requires_grad_(True)
        obs = windows_in_stack(full, tops, windows)
        logits = query.agent.action_logits(obs)
        values = query.agent.value(obs) if query.target.needs_value else None
        budget.agent_calls += len(obs)
        score = query.steer.score(logits, values, query.original_action).sum()
        (grad,) = torch.autograd.grad(score, windows)
        return unit_max(grad)

    def _persistent(
        self,
        query: Query,
        budget: Budget,
        gen: AtariInpainter,
        valid: list[AtariState],
        boxes: list[Box],
    ) -> AtariState | None:
        """The first of ``valid`` whose flip survives a light noise-and-denoise of its box (with
        ``prefer="purified"``, that redrawn stack instead: the flip checked on it)."""
        patch = gen.spec.patch
        known = torch.stack(
            [
                to_unit(c.obs)[:, y : y + patch, x : x + patch]
                for c, (y, x, *_) in zip(valid, boxes, strict=True)
            ]
        )
        noise = torch.randn(known.shape, generator=query.rng)
        windows = gen.inpaint(known, _masks(boxes, patch), noise, self.steps, strength=self.purify)
        t_max = self.purify * gen.scheduler.config.num_train_timesteps
        budget.generator_calls += max(1, sum(1 for t in gen.scheduler.timesteps if t <= t_max))
        purified = [_paste(query, box, w) for box, w in zip(boxes, windows, strict=True)]
        _score, ok = query.score_levels(purified, budget)
        for c, redrawn, good in zip(valid, purified, ok.tolist(), strict=True):
            if good and not (self.prefer == "purified" and redrawn == query.state):
                return redrawn if self.prefer == "purified" else c
        return None


def _wanted_actions(query: Query) -> list[int]:
    """The actions a conditioned inpainter draws boxes for: the named target, or for ``any`` the
    other actions, the agent's likelier ones on the original first; none for a value target
    (no action label stands for it: the boxes are drawn unlabelled)."""
    if query.steer.kind == "action":
        return [int(query.steer.action)]  # type: ignore[arg-type]
    if query.steer.kind != "any":
        return []
    with torch.no_grad():
        logits = query.agent.action_logits(
            torch.from_numpy(query.state.obs.astype(np.float32))[None]
        )[0]
    ranked = torch.argsort(logits, descending=True).tolist()
    return [a for a in ranked if a != query.original_action]


def _sides(sides: int | tuple[int, ...]) -> tuple[int, ...]:
    return (sides,) if isinstance(sides, int) else tuple(sides)


def _masks(boxes: list[Box], patch: int) -> torch.Tensor:
    mask = torch.zeros(len(boxes), 1, patch, patch)
    for i, (_, _, y, x, side) in enumerate(boxes):
        mask[i, :, y : y + side, x : x + side] = 1.0
    return mask


def _paste(query: Query, box: Box, window: torch.Tensor) -> AtariState:
    """The stack with ``window``'s box pasted in, projected onto the legal stacks."""
    wy, wx, by, bx, side = box
    stack = paste_box(query.state, window, wy, wx, (by, bx, side))
    return query.domain.decode_like(torch.from_numpy(stack), query.state)


def _guided(
    x0_hat: torch.Tensor,
    *,
    gradient: Callable[[torch.Tensor], torch.Tensor],
    mask: torch.Tensor,
    step: float,
) -> torch.Tensor:
    """The clean estimate moved inside the boxes along ``gradient`` (step 0: unchanged)."""
    if step == 0.0:
        return x0_hat
    moved = x0_hat + step * mask * gradient(x0_hat)
    return moved.clamp(-1, 1)


def unit_max(grad: torch.Tensor) -> torch.Tensor:
    """Each item's gradient scaled so its largest entry is 1 (the guidance step is then in
    pixel units whatever the agent's scale)."""
    return grad / grad.flatten(1).abs().amax(dim=1).clamp_min(1e-12)[:, None, None, None]


def windows_in_stack(
    full: torch.Tensor, tops: list[tuple[int, int]], windows: torch.Tensor
) -> torch.Tensor:
    """Agent observations [B, H, W, k] of ``full`` (unit range [k, H, W]) with each window
    pasted at its top-left corner; differentiable in ``windows``."""
    p = windows.shape[-1]
    stacks = []
    for (y, x), window in zip(tops, windows, strict=True):
        mid = torch.cat([full[:, y : y + p, :x], window, full[:, y : y + p, x + p :]], dim=2)
        stacks.append(torch.cat([full[:, :y], mid, full[:, y + p :]], dim=1))
    return from_unit(torch.stack(stacks))


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
