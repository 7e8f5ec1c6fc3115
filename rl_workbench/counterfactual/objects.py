"""``objects``: the fewest game-object edits that flip the action, drawn by the game itself.

The upper reference for the pixel methods on Atari (issue 12, section 4): every counterfactual is
a stack the game drew after its RAM was edited (move the cannon, remove an invader or a brick,
move a shot or the ball; ``domains/atari_objects.py``), replaying the agent's recorded actions
with the same randomness (``domains/atari_emulator.py``), so it is legal and real by
construction, and each edit is said in words. The search is grid ``search``'s: every single edit,
then the ``beam_width`` best by target score combined with one more edit, up to ``max_edits``.
An edit that changes no pixel, or a replay in which the edited game loses a life the recorded one
did not (or the reverse), is not a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rl_workbench.domains.atari import AtariState
from rl_workbench.domains.atari_emulator import Moment, replayer_for
from rl_workbench.domains.atari_objects import ObjectEdit, games_with_layouts, layout_for
from rl_workbench.errors import InvalidArgumentError

from .base import Budget, Method, Query, best


class NoObjectLayout(InvalidArgumentError):
    """The game's RAM layout is not known, so its objects cannot be edited."""

    title = "No RAM layout for this game"


def check_objects_supported(env_id: str) -> None:
    """Refuse a game whose objects ``--method objects`` cannot edit, naming the ones it can."""
    if layout_for(env_id) is None:
        raise NoObjectLayout(
            f"--method objects edits game objects through the emulator's RAM, and the RAM "
            f"layout of {env_id} is not known; it knows {games_with_layouts()}. Use "
            f"--method diffusion, nearest or pixel for this game."
        )


@dataclass
class ObjectsMethod(Method):
    """Fewest object edits, exhaustive at depth 1, then beam search.

    Attributes:
        max_edits: most edits combined.
        beam_width: candidates kept between depths.
    """

    name: ClassVar[str] = "objects"
    max_edits: int = 3
    beam_width: int = 6

    def _propose(self, query: Query, budget: Budget) -> AtariState | None:
        state: AtariState = query.state
        moment = state.moment
        if moment is None:  # a game's first stacks, or a state read from a dataset
            return None
        layout = layout_for(moment.env_id)
        if layout is None:
            check_objects_supported(moment.env_id)
        assert layout is not None
        edits = layout.edits(moment)
        # The game must redraw the unedited moment exactly, or a flip could come from the
        # replay rather than from the named edits.
        unedited = render(moment, [])
        if unedited is None or unedited != state:
            return None
        frontier: list[tuple[int, ...]] = [()]
        seen: set[AtariState] = {state}
        tried: set[tuple[int, ...]] = set()
        for _ in range(self.max_edits):
            combos: list[tuple[int, ...]] = []
            children: list[AtariState] = []
            for parent in frontier:
                used = {edits[i].target for i in parent}
                for i in range(len(edits)):  # any edit, not only later ones: the beam prunes
                    combo = tuple(sorted((*parent, i)))
                    if edits[i].target in used or combo in tried:
                        continue
                    tried.add(combo)
                    child = render(moment, [edits[j] for j in combo])
                    if child is None or child in seen:
                        continue
                    seen.add(child)
                    combos.append(combo)
                    children.append(child)
            if not children:
                return None
            score, ok = query.score_levels(children, budget)
            found = best(children, score, ok)
            if found is not None:
                return found
            order = score.argsort(descending=True)[: self.beam_width]
            frontier = [combos[int(i)] for i in order]
        return None

    def _describe(self, proposal: AtariState) -> tuple[str, ...]:
        return proposal.object_edits


def render(moment: Moment, edits: list[ObjectEdit]) -> AtariState | None:
    """The stack the game draws from ``moment`` after ``edits``, carrying the edits in words;
    None when the edited game parts from the recorded one."""
    ram = np.array(moment.ram, copy=True)
    for edit in edits:
        edit.apply(ram)
    stack = replayer_for(moment).render(moment, ram)
    if stack is None:
        return None
    return AtariState(stack, object_edits=tuple(edit.words for edit in edits))
