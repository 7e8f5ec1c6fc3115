"""``diffusion`` on frame stacks: local, saliency-masked guided denoising (SDEdit + RePaint),
chosen for every domain of family "atari".

A change to every pixel is neither sparse nor what a person can read, so edits are local: the
agent's saliency at the original (|d score / d pixel|, smoothed, all four frames) picks the few
pixel positions that may change, the rest is pasted back from the noised original at every step
(RePaint, Lugmayr et al. 2022) and exactly at the end, so sparsity is bounded by the region's size.
For each attempt, with a growing noise level, guidance step and region:

1. Noise the real stack to timestep ``t0 = strength * T`` (SDEdit, Meng et al. 2022).
2. Denoise with DDIM; at each step move the clean estimate ``x0_hat`` inside the region along
   the target score's gradient (largest entry moved by ``step``), take the DDIM step from it,
   and paste the noised original back outside the region.
3. Quantise to uint8 (the domain's decode), then a minimality pass keeps the fewest of the largest
   changes that still meet the target.
4. Judge on the quantised stack; stop at the first attempt that meets the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from rl_workbench.domains.atari import AtariState
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import AtariGenerator

from .base import Budget, Method, Query


@dataclass
class StackDiffusionMethod(Method):
    """Saliency-local guided SDEdit with a diffusers frame-stack generator.

    Attributes:
        generator: the fitted frame-stack generator.
        steps: DDIM steps over the full schedule (about ``strength * steps`` run per attempt).
        stack_attempts: (strength, step, region) triples tried in turn: strength is how far the
            real stack is noised, step the largest per-step move of the clean estimate along the
            target's gradient (in [-1, 1] units; the gradient is scaled so its largest entry moves
            by ``step``), region the fraction of pixel positions that may change (so sparsity >=
            1 - region). Closeness is kept by the region and the minimality pass, not by a
            penalty.
        keep_fractions: the shares of the changed positions (largest changes first) the
            minimality pass tries.
    """

    name: ClassVar[str] = "diffusion"
    generator: AtariGenerator | None = field(default=None, repr=False)
    steps: int = 20
    stack_attempts: tuple[tuple[float, float, float], ...] = (
        (0.3, 0.3, 0.01),
        (0.5, 1.0, 0.02),
        (0.7, 2.0, 0.035),
        (0.7, 5.0, 0.05),
    )
    keep_fractions: tuple[float, ...] = (0.1, 0.2, 0.35, 0.5, 0.75, 1.0)

    def __post_init__(self) -> None:
        if self.generator is None:
            raise InvalidArgumentError(
                "The diffusion method needs a generator: pass --generator GEN (fit one with "
                "`rlwb fit-generator` on the game's dataset)."
            )

    def _propose(self, query: Query, budget: Budget) -> AtariState | None:
        gen = self.generator
        assert gen is not None
        x0 = gen.to_model_space([query.state])
        agent_shape = tuple(query.domain.encode(query.state).shape)
        if tuple(gen.crop(x0).shape[1:]) != agent_shape:
            raise InvalidArgumentError(
                f"The generator makes states of shape {tuple(gen.crop(x0).shape[1:])} but the "
                f"agent sees {agent_shape}; fit a generator on this agent's environment."
            )
        scheduler = gen.scheduler
        scheduler.set_timesteps(self.steps)
        saliency = self._saliency(query, gen, x0, budget)
        last: AtariState | None = None
        for strength, step, region in self.stack_attempts:
            mask = _top_region(saliency, region, gen.spec.padded_size)  # [1, 1, P, P]
            t_max = strength * scheduler.config.num_train_timesteps
            timesteps = [t for t in scheduler.timesteps if t <= t_max]
            noise = torch.randn(x0.shape, generator=query.rng)
            x = scheduler.add_noise(x0, noise, timesteps[0].reshape(1))
            for i, t in enumerate(timesteps):
                with torch.no_grad():
                    eps = gen.unet(x, t).sample
                budget.generator_calls += 1
                alpha = scheduler.alphas_cumprod[t]
                x0_hat = ((x - (1 - alpha).sqrt() * eps) / alpha.sqrt()).clamp(-1, 1)
                x0_hat = (mask * x0_hat + (1 - mask) * x0).detach().requires_grad_(True)
                obs = gen.crop(x0_hat)
                logits = query.agent.action_logits(obs)
                values = query.agent.value(obs) if query.target.needs_value else None
                budget.agent_calls += 1
                objective = query.target.score(logits, values, query.original_action).sum()
                (grad,) = torch.autograd.grad(objective, x0_hat)
                # Guide the clean estimate itself, then take the DDIM step from it (eps made
                # consistent with the guided x0). Shifting eps as for mazes fails here: DDIM
                # clips x0 to [-1, 1], which cancels a large shift while the eps term of the
                # step still moves x_t against the gradient.
                guided = x0_hat + step * grad / grad.abs().max().clamp_min(1e-12)
                guided = guided.clamp(-1, 1).detach()
                eps = (x - alpha.sqrt() * guided) / (1 - alpha).sqrt()
                x = scheduler.step(eps, t, x).prev_sample
                # RePaint: outside the region, the original noised to the next step's level.
                if i + 1 < len(timesteps):
                    known = scheduler.add_noise(x0, noise, timesteps[i + 1].reshape(1))
                else:
                    known = x0
                x = mask * x + (1 - mask) * known
            last = query.domain.decode_like(gen.crop(x)[0], query.state)  # uint8-quantised
            candidate = self._minimal_stack(query, last, budget)
            if candidate is not None:
                return candidate
        return last

    def _saliency(
        self, query: Query, gen: AtariGenerator, x0: torch.Tensor, budget: Budget
    ) -> torch.Tensor:
        """|d target score / d pixel| at the original, summed over frames, smoothed: [P, P]."""
        x = x0.clone().requires_grad_(True)
        obs = gen.crop(x)
        logits = query.agent.action_logits(obs)
        values = query.agent.value(obs) if query.target.needs_value else None
        budget.agent_calls += 1
        score = query.target.score(logits, values, query.original_action).sum()
        (grad,) = torch.autograd.grad(score, x)
        s = grad.abs().sum(dim=1, keepdim=True)  # [1, 1, P, P]
        # Objects are a few pixels wide: let a salient pixel pull in its neighbours.
        s = F.avg_pool2d(s, kernel_size=5, stride=1, padding=2)
        s[..., gen.spec.size :, :] = -1.0  # padding is never edited
        s[..., :, gen.spec.size :] = -1.0
        return s[0, 0]

    def _minimal_stack(
        self, query: Query, proposal: AtariState, budget: Budget
    ) -> AtariState | None:
        """The fewest changed positions (largest changes first) that still meet the target."""
        original = query.state.obs.astype(np.int16)
        change = np.abs(proposal.obs.astype(np.int16) - original).max(axis=-1)  # [H, W]
        changed = np.flatnonzero(change)
        if changed.size == 0:
            return None
        order = changed[np.argsort(-change.flat[changed], kind="stable")]
        options = []
        for share in self.keep_fractions:
            keep = np.zeros(change.size, dtype=bool)
            keep[order[: max(1, round(share * order.size))]] = True
            obs = np.where(keep.reshape(change.shape)[..., None], proposal.obs, query.state.obs)
            options.append(AtariState(obs))
        options = list(dict.fromkeys(options))
        _score, ok = query.score_levels(options, budget)
        if not bool(ok.any()):
            return None
        return options[int(np.flatnonzero(ok.numpy())[0])]  # options run from fewest changes


def _top_region(saliency: torch.Tensor, fraction: float, side: int) -> torch.Tensor:
    """A {0, 1} mask [1, 1, P, P] of exactly the ``fraction`` most salient frame positions."""
    valid = int((saliency >= 0).sum())
    k = max(1, round(fraction * valid))
    mask = torch.zeros(side * side)
    mask[saliency.flatten().topk(k).indices] = 1.0  # exactly k, even among ties
    return mask.reshape(1, 1, side, side)
