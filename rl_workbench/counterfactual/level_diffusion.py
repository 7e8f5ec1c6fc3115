"""``diffusion`` on maze levels: guided partial denoising of the real level (SDEdit +
FastDiME-style guidance), chosen for every domain of family "maze".

Everything happens on the spanning-tree lattice of :mod:`rl_workbench.generative.maze_lattice`
(each room's parent link, tree depth and objects), the generator's own representation. For each
attempt, with a growing guidance scale:

1. Noise the real level's lattice encoding to timestep ``t0 = strength * T`` (SDEdit, Meng et
   al. 2022).
2. Denoise with DDIM. At each step the scheduler's one-step clean estimate
   ``x0_hat = (x_t - sqrt(1 - a_t) * eps) / sqrt(a_t)`` is shown to the agent (drawn as a level
   by ``maze_lattice.level_tensor``, then through the domain's differentiable
   ``observe_levels``: the channels themselves for symbolic agents, the RGB view for RGB agents),
   and the gradient of ``score(target) - closeness * ||x0_hat - x0||^2``
   *with respect to x0_hat* (no backprop through the UNet, as in FastDiME) shifts the noise
   estimate: ``eps <- eps - scale * sqrt(1 - a_t) * grad`` (classifier guidance, Dhariwal & Nichol
   eq. 14).
3. Decode the result (same maze size, same mouse): its parent links as they are when they form a
   perfect maze, else the domain's projection onto the nearest one; then a minimality
   pass keeps the fewest of the proposal's own changes (the cheese move, single passage swaps)
   that still meet the target.
4. Judge on the decoded level (re-rendered as the agent sees it); stop at the first attempt that
   meets the target with a margin.

With ``generator=None`` the same attempts run with no model at all (the ablation every maze table
reports as ``no-generator``): the same noising, guidance and DDIM steps with a noise prediction of
zero, then the same decoding and minimality pass, so the projection and the minimality pass act
alone on the guided, noised encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np
import torch

from rl_workbench.domains.maze import CHEESE, MazeDomain
from rl_workbench.envs.maze import MazeState, is_perfect_maze
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import MazeGenerator, maze_lattice
from rl_workbench.generative.folder import make_scheduler, padded_side

from .base import Budget, Method, Query, best
from .guidance import guided_sdedit
from .result import count_edits


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
    raw_trees: int = field(default=0, init=False, compare=False)
    decoded: int = field(default=0, init=False, compare=False)
    """Denoised samples whose parent links were already a perfect maze, out of ``decoded``:
    how often the projection had nothing to repair (reported by the maze benchmark)."""

    def __post_init__(self) -> None:
        for strength, scale in self.attempts:
            if not 0 < strength <= 1 or scale < 0:
                raise InvalidArgumentError(
                    f"Each attempt needs strength in (0, 1] and scale >= 0, got {strength, scale}."
                )

    def _propose(self, query: Query, budget: Budget) -> Any | None:
        domain = cast("MazeDomain", query.domain)  # family "maze"
        state = cast("MazeState", query.state)
        gen = self.generator
        if gen is None:  # the no-model ablation: the same noise and guidance, nothing denoising
            padded = padded_side(maze_lattice.lattice_side(state.world_size))
            scheduler = make_scheduler()

            def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                return torch.zeros_like(x)

        else:
            padded = gen.spec.padded_size
            if gen.spec.world_size != state.world_size:
                raise InvalidArgumentError(
                    f"The generator makes {gen.spec.world_size}x{gen.spec.world_size} worlds but "
                    f"the agent's are {state.world_size}x{state.world_size}; fit a generator on "
                    "this agent's environment."
                )
            # Guidance and steps work on the noise; the generator converts what it outputs.
            scheduler = make_scheduler(gen.scheduler.config.num_train_timesteps)

            block = gen.room_block([state.maze_size])

            def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                budget.generator_calls += 1
                return gen.predict_noise(x, t, block)  # type: ignore[union-attr]

        x0 = maze_lattice.to_model_space([state], padded)
        side = maze_lattice.lattice_side(state.world_size)

        def levels(x: torch.Tensor) -> torch.Tensor:
            return maze_lattice.level_tensor(x[:, :, :side, :side], state)

        scheduler.set_timesteps(self.steps)
        proposals: list[Any] = []
        cheese_cells: list[tuple[int, int]] = []
        tried: set[MazeState] = set()  # scored and failed in an earlier attempt
        for strength, scale in self.attempts:
            x = guided_sdedit(
                query,
                budget,
                x0,
                scheduler,
                predict,
                lambda x0_hat: domain.observe_levels(levels(x0_hat)),  # what the agent would see
                strength=strength,
                scale=scale,
                closeness=self.closeness,
            )
            # Decode with the *agent's* domain: its cheese region and sign rules make the level.
            level, raw_tree = maze_lattice.decode_like(x[0], state, domain)
            self.raw_trees += int(raw_tree)
            self.decoded += 1
            proposals.append(level)
            cheese_cells += self._likely_cheese(levels(x)[0][CHEESE], state)
            candidate = self._minimal(query, proposals, cheese_cells, budget, tried)
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
        tried: set[MazeState],
    ) -> MazeState | None:
        """The fewest-edit level within the proposals' own changes that meets the target.

        The generator proposes *where* to change the level; this pass decides *how little* of it
        is needed (CARLA's redundancy). Candidates, all legal and on the lattice: each proposal;
        each proposed cheese move alone; every single passage swap (open a passage some proposal
        opened, close one some proposal closed) that keeps a perfect maze, with and without a
        proposed cheese move. The fewest edits win, the target score breaks ties. Candidates are
        scored in tiers of increasing edit count, stopping at the first tier with a success.
        Later attempts reuse the changes earlier ones proposed and skip the levels earlier
        attempts already scored (``tried``).
        """
        original = query.state
        playable = cast("MazeDomain", query.domain).is_playable
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
            if o != original and o not in tried and playable(o) and is_perfect_maze(o)
        ]
        if not options:
            return None
        # Fewest edits first: a tier is scored only when every smaller one failed, so the agent
        # sees a handful of levels when a cheese move does it, not every combination.
        edits = [count_edits(original, o) for o in options]
        for tier in sorted(set(edits)):
            group = [o for o, e in zip(options, edits, strict=True) if e == tier]
            score, ok = query.score_levels(group, budget)
            if bool(ok.any()):
                return best(group, score, ok)
            tried.update(group)
        return None


@dataclass
class GuidedProjectionMethod(LevelDiffusionMethod):
    """``guided-projection``: what does the work in maze ``diffusion``, under its own name.

    The same attempts, noise, guidance, decoding and minimality pass with no generator at all
    (the ablation the maze tables report). On the zoo's agents it flips as many states as
    ``diffusion`` with the trained generator or more (BENCHMARKS.md), so this is the name that
    says what makes these counterfactuals: the agent's gradient on a noised level, the
    projection onto a perfect maze, and the minimality pass.
    """

    name: ClassVar[str] = "guided-projection"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.generator is not None:
            raise InvalidArgumentError(
                "guided-projection uses no generator; use --method diffusion to add one."
            )
