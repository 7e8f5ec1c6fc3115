"""``diffusion``: guided partial denoising of the real level (SDEdit + FastDiME-style guidance).

For each attempt, with a growing guidance scale:

1. Noise the real level to timestep ``t0 = strength * T`` (SDEdit, Meng et al. 2022).
2. Denoise with DDIM. At each step the scheduler's one-step clean estimate
   ``x0_hat = (x_t - sqrt(1 - a_t) * eps) / sqrt(a_t)`` is shown to the agent, and the gradient
   of ``score(target) - closeness * ||x0_hat - x0||^2`` *with respect to x0_hat* (no backprop
   through the UNet, as in FastDiME) shifts the noise estimate:
   ``eps <- eps - scale * sqrt(1 - a_t) * grad`` (classifier guidance, Dhariwal & Nichol eq. 14).
3. Decode the result to the nearest legal level (same maze size, same mouse), then a minimality
   pass keeps the fewest of the proposal's own changes (the cheese move, single passage swaps)
   that still meet the target.
4. Judge on the decoded level; stop at the first attempt that meets the target with a margin.

Frame stacks (an AtariGenerator) add locality, because a change to every pixel is neither
sparse nor what a person can read: the agent's saliency at the original (|d score / d pixel|,
smoothed, all four frames) picks the few pixel positions that may change, the rest is pasted back
from the noised original at every step (RePaint, Lugmayr et al. 2022) and exactly at the end, so
sparsity is bounded by the region's size. Attempts grow the region with the noise and guidance.
The minimality pass then keeps the fewest of the largest changes that still meet the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from rl_workbench.domains.atari import AtariState
from rl_workbench.domains.maze import CHEESE
from rl_workbench.envs.maze import MazeState, is_perfect_maze
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import AtariGenerator, MazeGenerator

from .base import Budget, Method, Query, best
from .result import count_edits
from .search import is_playable


@dataclass
class DiffusionMethod(Method):
    """Guided SDEdit with a diffusers maze generator.

    Attributes:
        generator: the fitted maze generator.
        attempts: (strength, guidance scale) pairs tried in turn until one works; strength is how
            far the real level is noised (0: not at all, 1: pure noise), so later attempts both
            push harder and allow larger changes.
        steps: DDIM steps over the full schedule (about ``strength * steps`` run per attempt).
        closeness: weight of the squared distance to the original in the guided objective.
        cheese_candidates: how many of the most likely cheese cells of each denoised sample the
            minimality pass tries (the generator's own ranking, not a search over the maze).
        stack_attempts: for frame stacks, (strength, step, region) triples: step is the largest
            per-step move of the clean estimate along the target's gradient (in [-1, 1] units;
            the gradient is scaled so its largest entry moves by ``step``), region the fraction
            of pixel positions that may change (so sparsity >= 1 - region). Closeness is kept by
            the region and the minimality pass, not by a penalty.
        keep_fractions: for frame stacks, the shares of the changed positions (largest changes
            first) the minimality pass tries.
    """

    name: ClassVar[str] = "diffusion"
    generator: MazeGenerator | AtariGenerator | None = field(default=None, repr=False)
    attempts: tuple[tuple[float, float], ...] = (
        (0.4, 10.0),
        (0.4, 30.0),
        (0.6, 100.0),
        (0.8, 300.0),
        (1.0, 300.0),
    )
    steps: int = 20
    closeness: float = 0.1
    cheese_candidates: int = 6
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
                "`rlwb fit-generator`) or use the zoo's (zoo:maze-generator)."
            )
        for strength, scale in self.attempts:
            if not 0 < strength <= 1 or scale < 0:
                raise InvalidArgumentError(
                    f"Each attempt needs strength in (0, 1] and scale >= 0, got {strength, scale}."
                )

    def _propose(self, query: Query, budget: Budget) -> Any | None:
        gen = self.generator
        assert gen is not None
        x0 = gen.to_model_space([query.state])
        agent_shape = tuple(query.domain.encode(query.state).shape)
        if tuple(gen.crop(x0).shape[1:]) != agent_shape:
            raise InvalidArgumentError(
                f"The generator makes states of shape {tuple(gen.crop(x0).shape[1:])} but the "
                f"agent sees {agent_shape}; fit a generator on this agent's environment."
            )
        if isinstance(query.state, AtariState):
            return self._propose_stack(query, budget, x0)
        scheduler = gen.scheduler
        scheduler.set_timesteps(self.steps)
        proposals: list[Any] = []
        cheese_cells: list[tuple[int, int]] = []
        for strength, scale in self.attempts:
            t_max = strength * scheduler.config.num_train_timesteps
            timesteps = [t for t in scheduler.timesteps if t <= t_max]
            noise = torch.randn(x0.shape, generator=query.rng)
            x = scheduler.add_noise(x0, noise, timesteps[0].reshape(1))
            for t in timesteps:
                with torch.no_grad():
                    eps = gen.unet(x, t).sample
                budget.generator_calls += 1
                alpha = scheduler.alphas_cumprod[t]
                x0_hat = ((x - (1 - alpha).sqrt() * eps) / alpha.sqrt()).clamp(-1, 1)
                x0_hat = x0_hat.detach().requires_grad_(True)
                obs = gen.crop(x0_hat)
                logits = query.agent.action_logits(obs)
                values = query.agent.value(obs) if query.target.needs_value else None
                budget.agent_calls += 1
                objective = query.target.score(logits, values, query.original_action).sum()
                objective = objective - self.closeness * ((x0_hat - x0) ** 2).sum()
                (grad,) = torch.autograd.grad(objective, x0_hat)
                eps = eps - scale * (1 - alpha).sqrt() * grad
                x = scheduler.step(eps, t, x).prev_sample
            # Decode with the *agent's* domain: its cheese region and sign rules make the level.
            level = query.domain.decode_like(gen.crop(x)[0], query.state)
            proposals.append(level)
            cheese_cells += self._likely_cheese(gen.crop(x)[0][CHEESE], query.state)
            candidate = self._minimal(query, proposals, cheese_cells, budget)
            if candidate is not None:
                return candidate
        return proposals[-1] if proposals else None

    def _likely_cheese(self, channel: torch.Tensor, original: MazeState) -> list[tuple[int, int]]:
        """The original level's free cells where the sample's cheese channel is highest."""
        allowed = torch.from_numpy(~original.walls & original.maze_mask())
        allowed[original.mouse] = False
        scores = torch.where(allowed, channel, torch.full_like(channel, -torch.inf)).flatten()
        top = scores.argsort(descending=True)[: self.cheese_candidates]
        w = channel.shape[-1]
        return [(int(i) // w, int(i) % w) for i in top if torch.isfinite(scores[i])]

    def _minimal(
        self,
        query: Query,
        proposals: list[MazeState],
        cheese_cells: list[tuple[int, int]],
        budget: Budget,
    ) -> MazeState | None:
        """The fewest-edit level within the proposals' own changes that meets the target.

        The generator proposes *where* to change the level; this pass decides *how little* of it
        is needed (CARLA's redundancy). Candidates, all legal and on the lattice: each proposal;
        each proposed cheese move alone; every single passage swap (open a passage some proposal
        opened, close one some proposal closed) that keeps a perfect maze, with and without a
        proposed cheese move. All are scored in one batch; the fewest edits win, the target score
        breaks ties. Later attempts reuse the changes earlier ones proposed.
        """
        original = query.state
        cheese_options = [original.cheese]
        opened: list[tuple[int, ...]] = []
        closed: list[tuple[int, ...]] = []
        for level in proposals:
            if level.cheese != original.cheese and not original.walls[level.cheese]:
                cheese_options.append(level.cheese)
            opened += [tuple(map(int, c)) for c in np.argwhere(~level.walls & original.walls)]
            closed += [tuple(map(int, c)) for c in np.argwhere(level.walls & ~original.walls)]
        cheese_options = list(dict.fromkeys(cheese_options + cheese_cells))
        opened, closed = list(dict.fromkeys(opened)), list(dict.fromkeys(closed))
        wall_options = [original.walls]
        for o in opened:
            for c in closed:
                walls = original.walls.copy()
                walls[o], walls[c] = False, True
                wall_options.append(walls)
        options = list(proposals)
        for walls in wall_options:
            for cheese in cheese_options:
                if walls[cheese] or walls[original.mouse] or cheese == original.mouse:
                    continue
                sign = cheese if original.sign == original.cheese else original.sign
                if sign is not None and walls[sign]:
                    continue
                options.append(original.replace(walls=walls, cheese=cheese, sign=sign))
        options = [
            o
            for o in dict.fromkeys(options)
            if o != original and is_playable(o) and is_perfect_maze(o)
        ]
        if not options:
            return None
        score, ok = query.score_levels(options, budget)
        edits = torch.tensor([float(count_edits(original, o)) for o in options])
        ok_edits = torch.where(ok, edits, torch.full_like(edits, float("inf")))
        return best(options, score, ok & (ok_edits == ok_edits.min()))

    # -- frame stacks ----------------------------------------------------------------------------
    def _propose_stack(self, query: Query, budget: Budget, x0: torch.Tensor) -> AtariState | None:
        gen = self.generator
        assert isinstance(gen, AtariGenerator)
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
            last = query.domain.decode(gen.crop(x)[0])
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
