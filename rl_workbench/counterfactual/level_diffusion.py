"""``diffusion`` on maze levels: guided partial denoising of the real level (SDEdit +
FastDiME-style guidance), chosen for every domain of family "maze".

For each attempt, with a growing guidance scale:

1. Noise the real level to timestep ``t0 = strength * T`` (SDEdit, Meng et al. 2022).
2. Denoise with DDIM. At each step the scheduler's one-step clean estimate
   ``x0_hat = (x_t - sqrt(1 - a_t) * eps) / sqrt(a_t)`` is shown to the agent (through the
   domain's differentiable ``observe_levels``: the channels themselves for symbolic agents, the
   RGB view for RGB agents), and the gradient of ``score(target) - closeness * ||x0_hat - x0||^2``
   *with respect to x0_hat* (no backprop through the UNet, as in FastDiME) shifts the noise
   estimate: ``eps <- eps - scale * sqrt(1 - a_t) * grad`` (classifier guidance, Dhariwal & Nichol
   eq. 14).
3. Decode the result to the nearest legal level (same maze size, same mouse), then a minimality
   pass keeps the fewest of the proposal's own changes (the cheese move, single passage swaps)
   that still meet the target.
4. Judge on the decoded level (re-rendered as the agent sees it); stop at the first attempt that
   meets the target with a margin.

With ``generator=None`` the same attempts run with no model at all (the ablation every maze table
reports as ``no-generator``): the same noising, guidance and DDIM steps with a noise prediction of
zero, then the same decoding and minimality pass, so the projection and the minimality pass act
alone on the guided, noised level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np
import torch

from rl_workbench.domains.base import LevelDomain
from rl_workbench.domains.maze import CHEESE
from rl_workbench.envs.maze import MazeState, is_perfect_maze
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import MazeGenerator
from rl_workbench.generative.folder import make_scheduler

from .base import Budget, Method, Query, best
from .result import count_edits
from .search import is_playable


@dataclass
class LevelDiffusionMethod(Method):
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
    """

    name: ClassVar[str] = "diffusion"
    generator: MazeGenerator | None = field(default=None, repr=False)
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

    def __post_init__(self) -> None:
        for strength, scale in self.attempts:
            if not 0 < strength <= 1 or scale < 0:
                raise InvalidArgumentError(
                    f"Each attempt needs strength in (0, 1] and scale >= 0, got {strength, scale}."
                )

    def _propose(self, query: Query, budget: Budget) -> Any | None:
        domain = cast("LevelDomain[MazeState]", query.domain)  # family "maze" has levels
        gen = self.generator
        if gen is None:  # the no-model ablation: the same noise and guidance, nothing denoising
            x0 = domain.level_tensor(query.state)[None] * 2 - 1
            scheduler = make_scheduler()

            def crop(x: torch.Tensor) -> torch.Tensor:
                return (x + 1) / 2

            def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                return torch.zeros_like(x)

        else:
            x0 = gen.to_model_space([query.state])
            level_shape = tuple(domain.level_tensor(query.state).shape)
            if tuple(gen.crop(x0).shape[1:]) != level_shape:
                raise InvalidArgumentError(
                    f"The generator makes levels of shape {tuple(gen.crop(x0).shape[1:])} but "
                    f"the agent's levels are {level_shape}; fit a generator on this agent's "
                    "environment."
                )
            scheduler, crop = gen.scheduler, gen.crop

            def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                budget.generator_calls += 1
                return gen.unet(x, t).sample  # type: ignore[union-attr]

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
                    eps = predict(x, t)
                alpha = scheduler.alphas_cumprod[t]
                x0_hat = ((x - (1 - alpha).sqrt() * eps) / alpha.sqrt()).clamp(-1, 1)
                x0_hat = x0_hat.detach().requires_grad_(True)
                obs = domain.observe_levels(crop(x0_hat))  # what the agent would see
                logits = query.agent.action_logits(obs)
                values = query.agent.value(obs) if query.target.needs_value else None
                budget.agent_calls += 1
                objective = query.steer.score(logits, values, query.original_action).sum()
                objective = objective - self.closeness * ((x0_hat - x0) ** 2).sum()
                (grad,) = torch.autograd.grad(objective, x0_hat)
                eps = eps - scale * (1 - alpha).sqrt() * grad
                x = scheduler.step(eps, t, x).prev_sample
            # Decode with the *agent's* domain: its cheese region and sign rules make the level.
            level = domain.decode_level_like(crop(x)[0], query.state)
            proposals.append(level)
            cheese_cells += self._likely_cheese(crop(x)[0][CHEESE], query.state)
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
