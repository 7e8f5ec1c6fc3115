"""What an agent reaches first on a maze level: behaviour judged by playing it out.

Goal misgeneralization is about where an agent goes, not its next move, so behaviour targets
(``reach:cheese``, ``reach:corner``, ``reach:sign``) are judged by rolling the agent out on the
level itself. Landmarks are the cheese, the maze's top-right corner and the sign; the first one
the mouse stands on (its start included, as the env's ``reached_corner`` counts it) is what the
agent "reaches first". Reaching the cheese ends the episode, as in the env. Where two landmarks
share a cell (cheese in the corner) both are reached at once.

Rollouts of many levels run in lockstep, one batched agent call per step, and each (level, square)
is evaluated once however often it is visited; ``agent_calls`` counts those evaluations. A greedy
rollout is
deterministic on a fixed level, so it stops as soon as the mouse stands where it stood before
(it would loop forever, bumping a wall included): a looping agent costs a few steps, not 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from rl_workbench.envs.maze import MOVES, MazeState, bfs_distances
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.types import Cell

from .base import Rollouts

LANDMARKS: tuple[str, ...] = ("cheese", "corner", "sign")
"""What a behaviour target can name, in the order they are checked on one cell."""

MAX_STEPS = 500
"""The env's own episode limit (procgen's)."""

ProbsFn = Callable[[Sequence[MazeState], Sequence[Cell]], torch.Tensor]
"""``probs(levels, mice)``: the agent's action distribution [B, A] on each level with the mouse
moved to the matching square (the caller may build those observations without new states)."""

__all__ = [
    "LANDMARKS",
    "MAX_STEPS",
    "Rollouts",
    "departure",
    "first_move_toward",
    "landmark_cell",
    "roll_out",
]


def landmark_cell(level: MazeState, name: str) -> Cell | None:
    """Where a landmark is on ``level`` (None: the level has no sign)."""
    if name == "cheese":
        return level.cheese
    if name == "corner":
        return level.corner
    if name == "sign":
        return level.sign
    raise InvalidArgumentError(f"Unknown landmark {name!r}; use one of {', '.join(LANDMARKS)}.")


def _reached_at(level: MazeState, cell: Cell, names: Sequence[str] = LANDMARKS) -> frozenset[str]:
    return frozenset(name for name in names if landmark_cell(level, name) == cell)


def roll_out(
    levels: Sequence[MazeState],
    probs: ProbsFn,
    goal: str,
    *,
    greedy: bool = True,
    rng: np.random.Generator | None = None,
    max_steps: int = MAX_STEPS,
    until_reached: bool = False,
    rivals: Sequence[str] | None = None,
) -> Rollouts:
    """Play every level from its mouse with the agent (greedy, or sampled from ``rng``) until
    a landmark is reached (``goal`` or one of ``rivals``; None: every landmark), the step
    limit, or (greedy) a repeated square; with ``until_reached``, all stop at the step where
    any one reaches ``goal`` first."""
    if not greedy and rng is None:
        raise InvalidArgumentError("Sampled rollouts need a random generator (rng).")
    names = LANDMARKS if rivals is None else (goal, *rivals)
    n = len(levels)
    mice = [lv.mouse for lv in levels]
    goal_dist = []
    for lv in levels:
        cell = landmark_cell(lv, goal)
        goal_dist.append(None if cell is None else bfs_distances(lv.walls, cell))
    closest = np.array(
        [-1 if d is None else int(d[m]) for d, m in zip(goal_dist, mice, strict=True)]
    )
    first = [_reached_at(lv, m, names) for lv, m in zip(levels, mice, strict=True)]
    alive = np.array([not f for f in first], dtype=bool)
    seen: list[set[Cell]] = [{m} for m in mice]
    steps = np.zeros(n, dtype=int)
    calls = 0
    known: dict[tuple[int, Cell], torch.Tensor] = {}
    for _ in range(max_steps):
        active = [int(i) for i in np.flatnonzero(alive)]
        if not active:
            break
        # The agent sees only the level and the mouse's square: the same level played many
        # times (sampled rollouts) or revisited squares are evaluated once.
        missing = list(dict.fromkeys((id(levels[i]), mice[i]) for i in active) - known.keys())
        if missing:
            where = {key: i for i in active for key in [(id(levels[i]), mice[i])]}
            fresh = probs([levels[where[k]] for k in missing], [k[1] for k in missing]).double()
            known.update(zip(missing, fresh, strict=True))
            calls += len(missing)
        p = torch.stack([known[(id(levels[i]), mice[i])] for i in active])
        if greedy:
            actions = p.argmax(dim=1).numpy()
        else:
            cum = p.cumsum(dim=1).numpy()
            draws = rng.random(len(active))  # type: ignore[union-attr]
            actions = np.minimum((cum < (draws * cum[:, -1])[:, None]).sum(axis=1), p.shape[1] - 1)
        for i, action in zip(active, actions, strict=True):
            dr, dc = MOVES[int(action)]
            cell = (mice[i][0] + dr, mice[i][1] + dc)
            if levels[i].is_free(cell):
                mice[i] = cell
            steps[i] += 1
            d = goal_dist[i]
            if d is not None and d[mice[i]] >= 0:
                closest[i] = (
                    min(closest[i], int(d[mice[i]])) if closest[i] >= 0 else int(d[mice[i]])
                )
            first[i] = _reached_at(levels[i], mice[i], names)
            if first[i] or (greedy and mice[i] in seen[i]):
                alive[i] = False
            seen[i].add(mice[i])
        if until_reached and any(goal in first[i] for i in active):
            break
    return Rollouts(first=first, closest=closest, steps=steps, agent_calls=calls)


def first_move_toward(level: MazeState, goal: str) -> int | None:
    """The action that starts a shortest path from the mouse to ``goal`` (None: no such path)."""
    cell = landmark_cell(level, goal)
    if cell is None or cell == level.mouse:
        return None
    dist = bfs_distances(level.walls, cell)
    here = dist[level.mouse]
    if here < 0:
        return None
    for action, (dr, dc) in enumerate(MOVES):
        nxt = (level.mouse[0] + dr, level.mouse[1] + dc)
        if level.is_free(nxt) and dist[nxt] == here - 1:
            return action
    return None


def departure(
    level: MazeState, probs: ProbsFn, goal: str
) -> tuple[tuple[Cell, set[int]] | None, int]:
    """Where the greedy rollout on ``level`` first steps off every shortest way to ``goal``:
    ((that square, the moves that would have stayed on one), agent calls spent); None for the
    place when the rollout reaches a landmark or loops first, or ``goal`` is absent or
    unreachable.

    An edit can only send a greedy agent elsewhere by changing its move somewhere on its path,
    and for the agent to reach ``goal`` instead the move at this square is the likeliest place,
    so the agent's probability of the goal-ward moves here ranks candidate edits cheaply."""
    cell = landmark_cell(level, goal)
    if cell is None:
        return None, 0
    dist = bfs_distances(level.walls, cell)
    mouse, seen, calls = level.mouse, {level.mouse}, 0
    if dist[mouse] < 0:
        return None, 0
    for _ in range(MAX_STEPS):
        if _reached_at(level, mouse):
            break
        action = int(probs([level], [mouse])[0].argmax())
        calls += 1
        toward = set()
        for a, (dr, dc) in enumerate(MOVES):
            nxt = (mouse[0] + dr, mouse[1] + dc)
            if level.is_free(nxt) and dist[nxt] == dist[mouse] - 1:
                toward.add(a)
        if action not in toward:
            return (mouse, toward), calls
        dr, dc = MOVES[action]
        mouse = (mouse[0] + dr, mouse[1] + dc)
        if mouse in seen:
            break
        seen.add(mouse)
    return None, calls
