"""Quiz items: the states people see, the agent's distribution on them, and what they are asked.

Items are built on demand (in a worker, off the UI thread) from seeds the session derives per
participant (:mod:`rl_workbench.quiz.design`): a maze level with the mouse placed on a seeded free
square, or a Space Invaders stack met in play. Study items in the ``explain`` condition carry a
counterfactual from the engine (search for mazes: the fewest edits; diffusion for Atari frame
stacks); in the ``control`` condition the same kind of states come with the agent's action only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import torch

from rl_workbench.agents import Agent, LoadedAgent
from rl_workbench.counterfactual import Target, make_method
from rl_workbench.counterfactual.search import SearchMethod
from rl_workbench.domains import make_env
from rl_workbench.domains.base import Domain
from rl_workbench.domains.registry import domain_for
from rl_workbench.envs.maze import MazeState

from .deck import Deck, item_seed
from .grid_rules import FROZEN_KINDS as GRID_FROZEN_KINDS

ItemKind = Literal["study", "predict", "construct", "spot", "spot-question", "attention"]
SPOT_OBJECTS = ("cheese", "walls", "mouse")
"""What a person may name as the flawed agent's blind spot."""


@dataclass
class Item:
    """One screen of the quiz.

    Attributes:
        index: position in the session (answers are stored by it).
        phase: index of the deck phase it belongs to.
        kind: what is asked.
        seed: the env seed it was drawn from.
        state: the state shown (a maze level, an Atari frame stack: the deck's domain's).
        probs: the shown agent's distribution on ``state``.
        counterfactual: study/explain: the edited state; None otherwise.
        counterfactual_probs: the agent's distribution there.
        target: construct: the action to bring about.
        budget: construct: most edits allowed.
        fewest_edits: construct: the fewest edits the search found (None: none within 3).
        agent_label: spot: which agent (A or B) acted here.
        goal: construct: what the person is asked for, in words.
    """

    index: int
    phase: int
    kind: ItemKind
    seed: int
    state: Any = field(repr=False, default=None)
    probs: np.ndarray | None = field(repr=False, default=None)
    counterfactual: Any = field(repr=False, default=None)
    counterfactual_probs: np.ndarray | None = field(repr=False, default=None)
    target: int | None = None
    budget: int = 3
    fewest_edits: int | None = None
    agent_label: str | None = None
    goal: str = ""

    def to_json(self, domain: Domain) -> dict[str, Any]:
        """What the store keeps of the item: states in the domain's JSON form where it has one
        (levels in full), otherwise by seed (Atari stacks are redrawn from it)."""
        out: dict[str, Any] = {"index": self.index, "phase": self.phase, "kind": self.kind,
                               "seed": self.seed}  # fmt: skip
        state = None if self.state is None else domain.state_to_json(self.state)
        if state is not None:
            out["state"] = state
            if self.counterfactual is not None:
                out["counterfactual"] = domain.state_to_json(self.counterfactual)
        for key in ("target", "budget", "fewest_edits", "agent_label", "goal"):
            out[key] = getattr(self, key)
        if self.counterfactual_probs is not None:
            out["counterfactual_probs"] = [float(p) for p in self.counterfactual_probs]
        return out


@dataclass
class QuizAgents:
    """The agents a deck names, loaded once.

    Attributes:
        main: the agent people predict.
        flawed: the agent with a planted flaw (spot phases), or None.
        generator: the Atari diffusion generator (explain condition on Atari), or None.
    """

    main: LoadedAgent
    flawed: Agent | None = None
    generator: Any = None

    @property
    def action_names(self) -> tuple[str, ...]:
        return self.main.agent.action_names

    @cached_property
    def domain(self) -> Domain:
        """The main agent's domain, in the observation mode it was trained on."""
        return domain_for(self.main.env_id, self.main.env_kwargs)


def load_quiz_agents(deck: Deck, *, trust: bool = False) -> QuizAgents:
    """Load the deck's agents (and, for Atari explain studies, the shipped generator).

    Args:
        deck: names the agents.
        trust: unpickle every object in the agent files (``--trust-agent``: runs code from the
            files); otherwise a file that needs more than the allowlist is refused.

    Raises:
        AgentLoadError: an agent is missing, damaged, or refused as untrusted.
    """
    from rl_workbench.agents import load_agent
    from rl_workbench.agents.flaws import plant_flaw

    main = load_agent(deck.agent, deck.env, deck.env_kwargs or None, trust=trust)
    flawed = None
    if deck.flawed_agent is not None:
        base = load_agent(deck.flawed_agent, deck.env, deck.env_kwargs or None, trust=trust)
        flawed = plant_flaw(base.agent, deck.flaw)
    agents = QuizAgents(main, flawed)
    # Both arms: study states are chosen among those an explanation exists for (build_item).
    if agents.domain.family in STUDY_NEEDS_GENERATOR and any(
        p.kind == "study" for p in deck.phases
    ):
        from rl_workbench.counterfactual.explain import load_method_model

        agents.generator = load_method_model("diffusion", main, None, deck.agent)
    return agents


def probs_of(agent: Agent, state: Any, domain: Domain) -> np.ndarray:
    """The agent's distribution [A] on ``state``, encoded as the domain's agents see it."""
    with torch.no_grad():
        return agent.action_probs(domain.encode(state)[None])[0].numpy()


def _draw_level(deck: Deck, agents: QuizAgents, seed: int) -> MazeState:
    """A seeded maze with the mouse on a seeded free square (so items are not all at the start)."""
    env = make_env(deck.env, deck.env_kwargs or agents.main.env_kwargs)
    env.reset(seed=seed)
    level: MazeState = env.unwrapped.get_state()  # type: ignore[attr-defined]
    rng = np.random.default_rng(seed)
    free = [c for c in level.free_cells() if level.in_maze(c) and c != level.cheese]
    return level.move_mouse(free[int(rng.integers(len(free)))])


def _draw_played(deck: Deck, agents: QuizAgents, seed: int) -> Any:
    """A state the agent meets in its own play (frame stacks cannot be placed by hand)."""
    from rl_workbench.counterfactual import sample_states

    return sample_states(agents.main, 1, seed)[0]


STATE_DRAWERS: dict[str, Callable[[Deck, QuizAgents, int], Any]] = {
    "maze": _draw_level,
    "atari": _draw_played,
    "minigrid": _draw_played,
}
"""How the quiz draws an item's state, by domain family."""

STUDY_METHODS: dict[str, Callable[[QuizAgents], Any]] = {
    "maze": lambda agents: SearchMethod(on_distribution_only=True),
    "atari": lambda agents: make_method("diffusion", generator=agents.generator),
    "minigrid": lambda agents: SearchMethod(
        on_distribution_only=True, frozen_kinds=GRID_FROZEN_KINDS
    ),
}
"""The counterfactual a study item shows in the explain condition, by domain family: the fewest
edits to a level the person could have built themselves (the construct screen's rules: a
perfect maze, objects where the generator puts them; issue 14: 14 of 40 shown were not); the
diffusion edit for frame stacks (no edit search exists for pixels); in MiniGrid the fewest
edits to the room, never to the agent (what the construct screen lets a person change)."""

STUDY_NEEDS_GENERATOR = frozenset({"atari"})
CONSTRUCT_FROZEN: dict[str, tuple[str, ...]] = {"minigrid": GRID_FROZEN_KINDS}
"""Edit kinds a person building a level may not make, by family (a maze's edits never move the
mouse; in MiniGrid the agent's pose is the situation asked about), so the fewest edits scored
against are ones the person could make."""
"""Families whose study method needs the shipped generator loaded with the agents."""


def draw_state(deck: Deck, agents: QuizAgents, seed: int) -> Any:
    """The state of an item, drawn the way the agents' domain family is drawn."""
    return STATE_DRAWERS[agents.domain.family](deck, agents, seed)


MAX_DRAWS = 60
"""Draws tried for one item before giving up: a state the participant has seen, a study state
with no explanation the person could have built, or a construct level that asks nothing is
drawn again with the next seed."""


class ItemDrawError(RuntimeError):
    """No acceptable state within :data:`MAX_DRAWS` draws (a deck whose levels are too few)."""


def build_item(
    deck: Deck,
    agents: QuizAgents,
    index: int,
    phase: int,
    within: int,
    condition: str,
    flawed_label: str,
    *,
    seed_of: Callable[[int], int] | None = None,
    seen: set[str] | None = None,
) -> Item:
    """The ``within``-th item of phase ``phase`` for a session in ``condition``.

    ``seed_of(attempt)`` gives the env seed of each draw (default: the deck's shared seeds,
    :func:`rl_workbench.quiz.deck.item_seed`); a state whose content digest is in ``seen`` is
    drawn again, and an accepted one is added to it. Study states are kept only when an
    explanation exists that the person could have built (legal, on-distribution), in either
    condition, so both arms study the same number of examples and the choice of states does not
    depend on the arm.

    Raises:
        ItemDrawError: no acceptable state within :data:`MAX_DRAWS` draws.
    """
    p = deck.phases[phase]
    if seed_of is None:
        base = item_seed(deck, phase, within)
        seed_of = lambda attempt: base + attempt * 100_003  # noqa: E731
    if p.kind == "spot" and within == p.items:  # the closing question of a spot phase
        return Item(index, phase, "spot-question", seed_of(0))
    if p.kind == "attention":  # the deck's question; no state, no agent
        return Item(index, phase, "attention", seed_of(0))
    for attempt in range(MAX_DRAWS):
        seed = seed_of(attempt)
        state = draw_state(deck, agents, seed)
        digest = agents.domain.content_digest(state)
        if seen is not None and digest in seen:
            continue
        item = _item_on(deck, agents, Item(index, phase, p.kind, seed, state), flawed_label)
        if item is None:
            continue
        if p.kind == "study" and condition != "explain":
            item.counterfactual = item.counterfactual_probs = None
        if seen is not None:
            seen.add(digest)
        return item
    raise ItemDrawError(
        f"No fresh {p.kind} state for item {index + 1} in {MAX_DRAWS} draws: the deck's "
        "environment has too few distinct levels for this many items per participant. Use "
        "fewer items or larger mazes."
    )


def _item_on(deck: Deck, agents: QuizAgents, item: Item, flawed_label: str) -> Item | None:
    """Fill in what the item asks on its state, or None when the state does not serve."""
    p = deck.phases[item.phase]
    state, seed = item.state, item.seed
    agent: Agent = agents.main.agent
    if p.kind == "spot":
        assert agents.flawed is not None
        rng = np.random.default_rng(seed)
        item.agent_label = "A" if rng.random() < 0.5 else "B"
        if item.agent_label == flawed_label:
            agent = agents.flawed
    item.probs = probs_of(agent, state, agents.domain)
    if p.kind == "study":
        result = _explain(deck, agents, state, seed)
        if result is None or not result.valid:
            return None
        if agents.domain.is_on_distribution(result.counterfactual_state) is False:
            return None  # not a level the person could have built
        item.counterfactual = result.counterfactual_state
        item.counterfactual_probs = result.probs_after
    if p.kind == "construct":
        names = agents.action_names
        if p.target == "corner":  # "make it head for the top-right instead of the cheese"
            item.target = _first_move(state, state.corner)
            # A level where the agent already heads for the corner (or stands on it) asks
            # nothing: draw again.
            if state.mouse == state.corner or int(np.argmax(item.probs)) == item.target:
                return None
            item.goal = "head for the top-right corner"
        else:
            item.target = names.index(p.target) if p.target in names else 0
            if int(np.argmax(item.probs)) == item.target:  # already does it: another action
                item.target = (item.target + 1) % len(names)
            item.goal = f"go {names[item.target].upper()}"
        item.budget = p.budget
        # The optimum under the person's own rules (issue 14: 13 of 30 optima were levels
        # they could not build): only levels the construct screen accepts count.
        search = SearchMethod(
            on_distribution_only=True,
            max_edits=max(3, p.budget),
            frozen_kinds=CONSTRUCT_FROZEN.get(agents.domain.family, ()),
        )
        result = search.explain(
            state, agent, agents.domain, Target("action", action=item.target), seed=seed
        )
        item.fewest_edits = result.edits if result.valid else None
    return item


def _first_move(level: MazeState, target: tuple[int, int]) -> int:
    """The action of the first step on the shortest path from the mouse to ``target``."""
    from rl_workbench.envs.maze.state import MOVES, shortest_path

    path = shortest_path(level.walls, level.mouse, target)
    if path is None or len(path) < 2:
        return 0
    return MOVES.index((path[1][0] - path[0][0], path[1][1] - path[0][1]))


def _explain(deck: Deck, agents: QuizAgents, state: Any, seed: int) -> Any:
    method = STUDY_METHODS[agents.domain.family](agents)
    return method.explain(state, agents.main.agent, agents.domain, Target("any"), seed=seed)
