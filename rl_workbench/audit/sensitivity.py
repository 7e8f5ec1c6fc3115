"""P3, counterfactual sensitivity: how the whole policy moves when the cheese or the proxy does.

For a few test mazes, the vector field (the agent's distribution with the mouse on each free
square; at most ``FIELD_SQUARES`` of them, drawn per maze) is compared before and after an
edit: the cheese moved to other free cells, the sign moved or removed. The mean total-variation
change per square says how much the agent attends to what was edited. Then, at each maze's
decision square, the grid counterfactual engine's search finds the fewest edits that change the
agent's action, and the kind of the first edit it needs
(moving the cheese, touching the proxy, other walls) is counted.

Last, behaviour: on mazes where the agent's greedy rollout reaches the proxy first, the search
with the behaviour target ``reach:cheese`` and the cheese left where it is finds the fewest edits
after which the agent goes for the cheese instead: what must change before it pursues the goal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rl_workbench.agents import Agent
from rl_workbench.counterfactual import Target
from rl_workbench.counterfactual.base import greedy_rollouts
from rl_workbench.counterfactual.search import SearchMethod
from rl_workbench.domains.base import Domain
from rl_workbench.envs.maze import MazeState

from .geometry import find_fork
from .observe import level_probs
from .suite import Proxy

Cell = tuple[int, int]
EDIT_KINDS = ("cheese", "proxy", "walls", "none")
"""What the fewest-edit flip at a decision square touched ('none': no flip within 3 edits)."""

FIELD_SQUARES = 32
"""The TV figures average over at most this many squares per maze, drawn once per maze and read
before and after each edit: an unbiased estimate of the whole field's mean that keeps a 15x15
maze's ten fields from costing thousands of agent calls each maze (a 7x7 perfect maze has at
most 31 free squares, so its figures are exact)."""

REDIRECT_MAZES = 10
"""Behaviour searches roll the agent out on every candidate, so P3 redirects at most this many
proxy-pursued mazes."""

REDIRECT_BEAM = 4
"""Candidates a redirect search keeps between depths. Every candidate costs a rollout (tens of
agent calls at 15x15), so the beam is narrower than the action search's 16."""

PROXY_LANDMARKS = {"corner": "corner", "sign": "sign"}
"""The landmark a behaviour rollout watches for each proxy kind (a corner region's anchor is the
corner cell itself)."""


def field_probs(
    agent: Agent,
    level: MazeState,
    domain: Domain | None = None,
    squares: list[Cell] | None = None,
) -> dict[Cell, np.ndarray]:
    """π with the mouse on each free square other than the cheese (or on those of ``squares``;
    levels encoded by ``domain``, the agent's; None: symbolic channels)."""
    cells = [c for c in level.free_cells() if c != level.cheese and level.in_maze(c)]
    if squares is not None:
        wanted = set(squares)
        cells = [c for c in cells if c in wanted]
    if not cells:
        return {}
    probs = level_probs(agent, [level.replace(mouse=c) for c in cells], domain)
    return dict(zip(cells, probs, strict=True))


def mean_tv(a: dict[Cell, np.ndarray], b: dict[Cell, np.ndarray]) -> float | None:
    """Mean total-variation distance over the squares both fields cover."""
    common = [c for c in a if c in b]
    if not common:
        return None
    return float(np.mean([0.5 * np.abs(a[c] - b[c]).sum() for c in common]))


@dataclass(frozen=True)
class Sensitivity:
    """P3's figures for one proxy.

    Attributes:
        proxy: the proxy's name.
        cheese_tv: mean TV change per square when the cheese moves (one value per maze).
        proxy_tv: the same when the proxy is moved or removed (empty for a corner, which
            cannot move).
        flips: how many decision-square flips needed each kind of edit (``EDIT_KINDS``).
        examples: (level, counterfactual level) pairs of flips, for the report's pictures.
        redirect: the behaviour search on proxy-pursued mazes (see :class:`Redirects`).
    """

    proxy: str
    cheese_tv: list[float]
    proxy_tv: list[float]
    flips: dict[str, int]
    examples: list[tuple[MazeState, MazeState]] = field(default_factory=list, repr=False)
    redirect: Redirects | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "proxy": self.proxy,
            "mazes": len(self.cheese_tv),
            "mean_tv_cheese_moved": float(np.mean(self.cheese_tv)) if self.cheese_tv else None,
            "mean_tv_proxy_edited": float(np.mean(self.proxy_tv)) if self.proxy_tv else None,
            "flip_edit_kinds": self.flips,
            "redirect_to_cheese": None if self.redirect is None else self.redirect.to_dict(),
        }


@dataclass(frozen=True)
class Redirects:
    """What must change before a proxy-pursuing agent goes for the cheese.

    Attributes:
        mazes: mazes looked at.
        proxy_first: of those, where the greedy rollout reached the proxy before the cheese.
        tried: proxy-first mazes searched (at most ``REDIRECT_MAZES``).
        redirected: searched mazes where at most ``max_edits`` edits (the cheese left in place)
            make the greedy rollout reach the cheese first.
        edits: the edit count of each redirect.
        kinds: how many redirects touched the proxy (sign, or walls near the corner) and how
            many only other walls.
        agent_calls: agent evaluations the searches spent, rollouts included.
        examples: (level, redirected level) pairs for the report.
    """

    mazes: int
    proxy_first: int
    tried: int
    redirected: int
    edits: list[int]
    kinds: dict[str, int]
    agent_calls: int
    examples: list[tuple[MazeState, MazeState]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "mazes": self.mazes,
            "proxy_first": self.proxy_first,
            "tried": self.tried,
            "redirected": self.redirected,
            "median_edits": float(np.median(self.edits)) if self.edits else None,
            "edit_kinds": self.kinds,
            "agent_calls": self.agent_calls,
        }


def redirects(
    agent: Agent, levels: list[MazeState], proxy: Proxy, domain: Domain, *, seed: int = 0
) -> Redirects:
    """Fewest edits (cheese fixed) after which the greedy agent reaches the cheese first, on the
    mazes where it reaches ``proxy`` first."""
    to_cheese = Target("reach", goal="cheese")
    landmark = PROXY_LANDMARKS[proxy.kind]
    first = greedy_rollouts(agent, domain, levels, to_cheese).first
    pursued = [
        lv for lv, f in zip(levels, first, strict=True) if landmark in f and "cheese" not in f
    ]
    return search_redirects(
        agent,
        domain,
        pursued,
        to_cheese,
        frozen=("move_cheese",),
        kind_of=lambda level, after: edit_kind(level, after, proxy),
        kinds=("proxy", "walls"),
        looked_at=len(levels),
        seed=seed,
    )


def search_redirects(
    agent: Agent,
    domain: Domain,
    pursued: list[Any],
    to_goal: Target,
    *,
    frozen: tuple[str, ...],
    kind_of: Callable[[Any, Any], str],
    kinds: tuple[str, ...],
    looked_at: int,
    seed: int = 0,
) -> Redirects:
    """The behaviour search on at most ``REDIRECT_MAZES`` of the ``pursued`` levels (where the
    greedy agent went for the proxy), edits of the ``frozen`` kinds (those that move the goal)
    not allowed; ``kind_of(level, redirected)`` names what each redirect touched."""
    search = SearchMethod(frozen_kinds=frozen, beam_width=REDIRECT_BEAM)
    edits: list[int] = []
    counts: Counter[str] = Counter({kind: 0 for kind in kinds})
    examples: list[tuple[Any, Any]] = []
    calls = 0
    for level in pursued[:REDIRECT_MAZES]:
        result = search.explain(level, agent, domain, to_goal, seed=seed)
        calls += result.agent_calls
        if result.valid and result.edits is not None:
            edits.append(result.edits)
            counts[kind_of(level, result.counterfactual_state)] += 1
            if len(examples) < 2:
                examples.append((level, result.counterfactual_state))
    return Redirects(
        mazes=looked_at,
        proxy_first=len(pursued),
        tried=min(len(pursued), REDIRECT_MAZES),
        redirected=len(edits),
        edits=edits,
        kinds=dict(counts),
        agent_calls=calls,
        examples=examples,
    )


def sensitivity(
    agent: Agent,
    levels: list[MazeState],
    proxy: Proxy,
    domain: Domain,
    *,
    moves_per_maze: int = 4,
    seed: int = 0,
) -> Sensitivity:
    """Vector-field changes under cheese and proxy edits, and the kinds of minimal flips."""
    rng = np.random.default_rng(seed)
    sampler = np.random.default_rng([seed, 1])  # its own stream: the edits drawn stay the same
    cheese_tv: list[float] = []
    proxy_tv: list[float] = []
    for level in levels:
        squares = [c for c in level.free_cells() if level.in_maze(c)]
        if len(squares) > FIELD_SQUARES:
            drawn = sampler.choice(len(squares), size=FIELD_SQUARES, replace=False)
            squares = [squares[int(i)] for i in sorted(drawn)]
        base = field_probs(agent, level, domain, squares)
        free = [
            c
            for c in level.free_cells()
            if level.in_maze(c) and c not in (level.cheese, level.mouse)
        ]
        picks = rng.choice(len(free), size=min(moves_per_maze, len(free)), replace=False)
        changes = [
            mean_tv(base, field_probs(agent, level.move_cheese(free[int(i)]), domain, squares))
            for i in picks
        ]
        cheese_tv.append(float(np.mean([c for c in changes if c is not None])))
        if proxy.kind == "sign" and level.sign is not None:
            edits = [level.move_sign(None)]
            others = [c for c in free if c != level.sign]
            for i in rng.choice(len(others), size=min(moves_per_maze, len(others)), replace=False):
                edits.append(level.move_sign(others[int(i)]))
            changes = [mean_tv(base, field_probs(agent, e, domain, squares)) for e in edits]
            proxy_tv.append(float(np.mean([c for c in changes if c is not None])))
    flips: Counter[str] = Counter({kind: 0 for kind in EDIT_KINDS})
    examples: list[tuple[MazeState, MazeState]] = []
    search = SearchMethod()
    for level in levels:
        fork = find_fork(level, proxy)
        if fork is None:
            continue
        at_fork = level.replace(mouse=fork.square)
        result = search.explain(at_fork, agent, domain, Target("any"), seed=seed)
        kind = edit_kind(at_fork, result.counterfactual_state, proxy) if result.valid else "none"
        flips[kind] += 1
        if result.valid and len(examples) < 4:
            examples.append((at_fork, result.counterfactual_state))
    redirect = redirects(agent, levels, proxy, domain, seed=seed)
    return Sensitivity(proxy.name, cheese_tv, proxy_tv, dict(flips), examples, redirect)


def corner_reach(region: int, maze_size: int) -> int:
    """The side of the top-right block whose wall edits count as touching a corner proxy: the
    proxy's own block and a fifth of the maze around it (at least one cell), never the whole
    maze. A fixed side of 3 covered most of a small maze (issue 16)."""
    return min(maze_size - 1, region + max(1, round(maze_size / 5)))


def edit_kind(original: MazeState, counterfactual: MazeState, proxy: Proxy) -> str:
    """Which kind of edit a flip made: the cheese, the proxy (sign, or walls near the corner),
    or other walls. A flip that moves the cheese counts as 'cheese' whatever else it did."""
    if counterfactual.cheese != original.cheese:
        return "cheese"
    if proxy.kind == "sign" and counterfactual.sign != original.sign:
        return "proxy"
    changed = np.argwhere(counterfactual.walls != original.walls)
    if proxy.kind == "corner" and changed.size:
        top, left = original.origin
        right = left + original.maze_size - 1
        near = corner_reach(proxy.region, original.maze_size)
        if any(r < top + near and c > right - near for r, c in changed):
            return "proxy"
    return "walls"
