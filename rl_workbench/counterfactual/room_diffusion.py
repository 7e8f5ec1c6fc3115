"""``diffusion`` on MiniGrid rooms: guided partial denoising of the agent's own room, then the
fewest of its changes that still flip the agent.

The maze algorithm (:mod:`.level_diffusion`) on minigrid's cells instead of a maze lattice:

1. Noise the room's one-hot encoding (:mod:`rl_workbench.domains.minigrid_levels`) to
   ``strength * T`` (SDEdit).
2. Denoise with DDIM; at each step the one-step clean estimate is shown to the agent through the
   differentiable full-grid observation (``minigrid_levels.observe``, exact on real rooms), and the
   gradient of ``score(target) - closeness * ||x0_hat - x0||^2`` with respect to the estimate
   shifts the noise estimate (classifier guidance, no backprop through the UNet).
3. Decode onto a legal room (``minigrid_levels.decode_like``: outer wall and agent kept, each
   object placed once where its kind scores highest).
4. Minimality: the proposal's changes as the domain's own atomic edits (an object moved, a wall
   toggled), tried one at a time, then in pairs, then the whole proposal; the fewest that meet
   the target win, each checked on the legal room the env would show.

With ``generator=None`` the same attempts run with no model (a noise prediction of zero): the
ablation every MiniGrid table reports beside the fitted and the untrained generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, ClassVar, cast

import numpy as np
import torch

from rl_workbench.domains import minigrid_levels
from rl_workbench.domains.minigrid import (
    EMPTY,
    GOAL,
    WALL,
    Edit,
    MiniGridState,
    legality_problems,
)
from rl_workbench.errors import InvalidArgumentError, InvalidEditError
from rl_workbench.generative.folder import make_scheduler, padded_side
from rl_workbench.generative.room_generator import RoomGenerator, to_model_space

from .base import Budget, Method, Query, best
from .guidance import guided_sdedit

GOAL_CHANNEL = minigrid_levels.KINDS.index("goal")
PAIRS = 64
"""Pairs of single edits the minimality pass scores at most (single edits are all scored)."""


@dataclass
class RoomDiffusionMethod(Method):
    """Guided SDEdit with a diffusers room generator (or none: the ablation).

    Attributes:
        generator: the fitted room generator; None runs the same steps with no model.
        attempts: (strength, guidance scale) pairs tried in turn until one works.
        steps: DDIM steps over the full schedule.
        closeness: weight of the squared distance to the original in the guided objective.
        goal_candidates: how many of each denoised sample's likeliest goal cells the minimality
            pass also tries as a goal move (the generator's own ranking, as the maze method's
            cheese candidates).
    """

    name: ClassVar[str] = "diffusion"
    generator: RoomGenerator | None = field(default=None, repr=False)
    attempts: tuple[tuple[float, float], ...] = ((0.3, 3.0), (0.5, 10.0), (0.7, 30.0), (1.0, 100.0))
    steps: int = 20
    closeness: float = 0.1
    goal_candidates: int = 6

    def _propose(self, query: Query, budget: Budget) -> Any | None:
        state = cast(MiniGridState, query.state)
        encoded = query.domain.encode(state)
        soft = minigrid_levels.level_tensor(state)[None]
        if not torch.equal(minigrid_levels.observe(soft, state)[0], encoded.float()):
            raise InvalidArgumentError(
                "diffusion edits MiniGrid rooms for agents that see the whole grid "
                "(FullyObsWrapper + ImgObsWrapper); this agent sees another view. Use "
                "--method search."
            )
        gen = self.generator
        if gen is None:
            padded = padded_side(max(state.width, state.height))
            scheduler = make_scheduler()

            def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                return torch.zeros_like(x)

        else:
            if (gen.spec.width, gen.spec.height) != (state.width, state.height):
                raise InvalidArgumentError(
                    f"The generator makes {gen.spec.width}x{gen.spec.height} rooms but the "
                    f"agent's are {state.width}x{state.height}; fit a generator on this agent's "
                    "environment (rlwb collect, then rlwb fit-generator)."
                )
            padded = gen.spec.padded_size
            # Guidance and steps work on the noise; the generator converts what it outputs.
            scheduler = make_scheduler(gen.scheduler.config.num_train_timesteps)

            def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                budget.generator_calls += 1
                return gen.predict_noise(x, t)  # type: ignore[union-attr]

        x0 = to_model_space([state], padded)
        w, h = state.width, state.height
        scheduler.set_timesteps(self.steps)
        proposals: list[MiniGridState] = []
        moves: list[Edit] = []
        tried: set[MiniGridState] = set()
        for strength, scale in self.attempts:
            x = guided_sdedit(
                query,
                budget,
                x0,
                scheduler,
                predict,
                lambda x0_hat: minigrid_levels.observe((x0_hat[:, :, :w, :h] + 1) / 2, state),
                strength=strength,
                scale=scale,
                closeness=self.closeness,
            )
            proposals.append(minigrid_levels.decode_like(x[0, :, :w, :h], state))
            moves += self._likely_goals(x[0, GOAL_CHANNEL, :w, :h], state)
            candidate = self._minimal(query, proposals, moves, budget, tried)
            if candidate is not None:
                return candidate
        return None

    def _likely_goals(self, channel: torch.Tensor, original: MiniGridState) -> list[Edit]:
        """Goal moves to the free cells where the sample's goal channel is highest."""
        if not original.cells_of(GOAL):
            return []
        free = torch.from_numpy(original.array[:, :, 0] == EMPTY)
        free[original.agent_pos] = False
        scores = torch.where(free, channel, torch.full_like(channel, -torch.inf)).flatten()
        top = scores.argsort(descending=True)[: self.goal_candidates]
        h = channel.shape[-1]
        return [Edit("move_goal", divmod(int(i), h)) for i in top if torch.isfinite(scores[i])]

    def _minimal(
        self,
        query: Query,
        proposals: list[MiniGridState],
        moves: list[Edit],
        budget: Budget,
        tried: set[MiniGridState],
    ) -> MiniGridState | None:
        """The fewest of the proposals' own edits (and the likeliest goal moves) that meet the
        target (tiers of 1, 2, all)."""
        original = cast(MiniGridState, query.state)
        edits = [e for p in proposals for e in _edits_between(original, p)]
        edits = list(dict.fromkeys(edits + moves))
        singles = [_apply(original, [e]) for e in edits]
        pairs = [_apply(original, list(pair)) for pair in combinations(edits, 2)][:PAIRS]
        for tier in (singles, pairs, list(proposals)):
            group = [
                s
                for s in dict.fromkeys(s for s in tier if s is not None)
                if s != original and s not in tried and not legality_problems(s)
            ]
            if not group:
                continue
            score, ok = query.score_levels(group, budget)
            if bool(ok.any()):
                return best(group, score, ok)
            tried.update(group)
        return None


def _edits_between(original: MiniGridState, proposal: MiniGridState) -> list[Edit]:
    """The proposal's changes as the domain's atomic edits: each object that left a cell for
    another is one move; each other changed inner cell is one wall toggle."""
    before, after = original.array, proposal.array
    changed = [(int(x), int(y)) for x, y in np.argwhere((before != after).any(axis=2))]
    left = [c for c in changed if after[c][0] != before[c][0] and before[c][0] not in (1, WALL)]
    arrived = [c for c in changed if after[c][0] not in (1, WALL) and after[c][0] != before[c][0]]
    edits: list[Edit] = []
    for source in left:
        for cell in arrived:
            if after[cell][0] == before[source][0]:
                kind = "move_goal" if before[source][0] == GOAL else "move_object"
                edits.append(Edit(kind, cell, None if kind == "move_goal" else source))  # type: ignore[arg-type]
    # A wall that went up or came down is a toggle, on a cell an object left or entered too.
    walls = [c for c in changed if WALL in (before[c][0], after[c][0])]
    edits += [Edit("toggle_wall", c) for c in walls]
    return edits


def _apply(state: MiniGridState, edits: list[Edit]) -> MiniGridState | None:
    """``edits`` applied in the order that lets them fit: walls taken down, then moves, then
    walls put up (a goal moved onto a former wall needs the wall gone first)."""

    def order(edit: Edit) -> int:
        if edit.kind != "toggle_wall":
            return 1
        return 0 if state.object_at(edit.cell) == WALL else 2

    try:
        for edit in sorted(edits, key=order):
            state = edit.apply(state)
    except InvalidEditError:
        return None
    return state


@dataclass
class RoomGuidedProjectionMethod(RoomDiffusionMethod):
    """``guided-projection`` on MiniGrid rooms: the same attempts, guidance, decoding and
    minimality pass with no generator, under the name of what does the work (as on mazes). On
    goal rooms it flips as many states as ``diffusion`` with a fitted room generator
    (BENCHMARKS.md, "Counterfactuals on MiniGrid rooms"), and it needs no fitting."""

    name: ClassVar[str] = "guided-projection"

    def __post_init__(self) -> None:
        if self.generator is not None:
            raise InvalidArgumentError(
                "guided-projection uses no generator; use --method diffusion to add one."
            )
