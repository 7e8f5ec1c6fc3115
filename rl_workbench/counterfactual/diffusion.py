"""``diffusion``: guided partial denoising of the real level (SDEdit + FastDiME-style guidance).

For each attempt, with a growing guidance scale:

1. Noise the real level to timestep ``t0 = strength * T`` (SDEdit, Meng et al. 2022).
2. Denoise with DDIM. At each step the scheduler's one-step clean estimate
   ``x0_hat = (x_t - sqrt(1 - a_t) * eps) / sqrt(a_t)`` is shown to the agent, and the gradient
   of ``score(target) - closeness * ||x0_hat - x0||^2`` *with respect to x0_hat* (no backprop
   through the UNet, as in FastDiME) shifts the noise estimate:
   ``eps <- eps - scale * sqrt(1 - a_t) * grad`` (classifier guidance, Dhariwal & Nichol eq. 14).
3. Decode the result to the nearest legal level (same maze size, same mouse), then a minimality
   pass keeps only the cheese move, or only the wall changes, when that alone meets the target.
4. Judge on the decoded level; stop at the first attempt that meets the target with a margin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from rl_workbench.envs.maze import MazeState
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import MazeGenerator

from .base import Budget, Method, Query, best
from .result import count_edits
from .search import is_playable


@dataclass
class DiffusionMethod(Method):
    """Guided SDEdit with a diffusers maze generator.

    Attributes:
        generator: the fitted maze generator.
        strength: how far to noise the real level (0 = not at all, 1 = pure noise).
        steps: DDIM steps over the full schedule (about ``strength * steps`` are run).
        scales: guidance scales tried in turn until one works.
        closeness: weight of the squared distance to the original in the guided objective.
    """

    name: ClassVar[str] = "diffusion"
    generator: MazeGenerator | None = field(default=None, repr=False)
    strength: float = 0.4
    steps: int = 25
    scales: tuple[float, ...] = (3.0, 10.0, 30.0, 100.0)
    closeness: float = 0.1

    def __post_init__(self) -> None:
        if self.generator is None:
            raise InvalidArgumentError(
                "The diffusion method needs a generator: pass --generator GEN (fit one with "
                "`rlwb fit-generator`) or use the zoo's (zoo:maze-generator)."
            )
        if not 0 < self.strength <= 1:
            raise InvalidArgumentError(f"strength must be in (0, 1], got {self.strength}.")

    def _propose(self, query: Query, budget: Budget) -> MazeState | None:
        gen = self.generator
        assert gen is not None
        if gen.spec.world_size != query.domain.world_size:
            raise InvalidArgumentError(
                f"The generator models {gen.spec.world_size}x{gen.spec.world_size} worlds but the "
                f"agent's are {query.domain.world_size}x{query.domain.world_size}; fit a generator "
                "on this agent's environment."
            )
        scheduler = gen.scheduler
        scheduler.set_timesteps(self.steps)
        t_max = self.strength * scheduler.config.num_train_timesteps
        timesteps = [t for t in scheduler.timesteps if t <= t_max]
        x0 = gen.to_model_space([query.state])
        last: MazeState | None = None
        for scale in self.scales:
            noise = torch.randn(x0.shape, generator=query.rng)
            x = scheduler.add_noise(x0, noise, timesteps[:1][0].reshape(1))
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
            level = gen.domain.decode(
                gen.crop(x)[0], maze_size=query.state.maze_size, mouse=query.state.mouse
            )
            candidate = self._minimal(query, level, budget)
            if candidate is not None:
                return candidate
            last = level
        return last

    def _minimal(self, query: Query, level: MazeState, budget: Budget) -> MazeState | None:
        """The fewest-edit version of ``level`` that still meets the target, or None."""
        original = query.state
        options = [level]
        if level.cheese != original.cheese:
            only_cheese = (
                original.move_cheese(level.cheese) if not original.walls[level.cheese] else None
            )
            if only_cheese is not None:
                options.append(only_cheese)
        if (level.walls != original.walls).any() and not level.walls[original.cheese]:
            only_walls = level.replace(cheese=original.cheese, sign=original.sign)
            if original.sign is not None and level.walls[original.sign]:
                only_walls = None
            if only_walls is not None:
                options.append(only_walls)
        options = [o for o in dict.fromkeys(options) if is_playable(o) and o != original]
        if not options:
            return None
        score, ok = query.score_levels(options, budget)
        edits = torch.tensor([float(count_edits(original, o)) for o in options])
        # Fewest edits first; the target score breaks ties.
        ok_edits = torch.where(ok, edits, torch.full_like(edits, float("inf")))
        fewest = ok_edits == ok_edits.min()
        return best(options, score, ok & fewest)
