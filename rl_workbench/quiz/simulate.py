"""``rlwb quiz simulate``: simulated participants run a deck into an answer database, so a lab can
test its whole pipeline (assignment, items, store, ``quiz stats``) before anyone takes part.

They go through the same :class:`QuizSession` as people (the same arm assignment, items, scoring
and store); only the answers are computed:

- ``guesser``: picks an action at random, sure of nothing (q uniform);
- ``perfect``: answers with the agent's own distribution; names the flawed agent and its blind
  spot;
- ``learner``: remembers every state it was shown in study with the agent's action there (and,
  in the explain arm, the counterfactual with its action), and predicts the action of the
  nearest remembered state (the domain's distance), 60% sure; with nothing comparable, it
  guesses. Explanations give it twice the examples, so the explain arm should predict better:
  an effect the statistics must find;
- ``planted``: an effect of known size, to check that a pipeline recovers it. Each planted
  participant draws a weight w once, uniform on [low, low + 0.4] with ``low`` set per arm
  (``planted_lows``), and answers q = (1 - w) π + w · uniform, choosing the agent's top action:
  its distance is w² ‖uniform - π‖², so the arms differ by a known amount
  (:func:`planted_effect`).

Simulated participants do not build levels: construct items are answered with the level
unchanged (scored as attempts with no edits).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .deck import Deck
from .items import SPOT_OBJECTS, Item, QuizAgents
from .scoring import confidence_distribution
from .session import QuizSession
from .store import AnswerStore

KINDS = ("guesser", "learner", "perfect", "planted")
PLANTED_LOWS = {"explain": 0.3, "control": 0.5}
"""Default ``low`` of the planted participants' weight per arm (explain answers closer to π)."""


def planted_effect(lows: dict[str, float], spread: float) -> float:
    """explain - control of E[w²] for planted participants (multiply by ‖uniform - π‖² of the
    items: 0.75 for a four-action agent sure of one action)."""

    def second_moment(low: float) -> float:
        return ((low + 0.4) ** 3 - low**3) / (3 * 0.4)

    return spread * (second_moment(lows["explain"]) - second_moment(lows["control"]))


USER_PREFIX = "sim-"
"""Simulated participants' names start with this, so they are never taken for people."""


class _Participant:
    """One simulated participant's answers (see the module doc)."""

    def __init__(
        self,
        kind: str,
        agents: QuizAgents,
        rng: np.random.Generator,
        low: float = 0.0,
    ) -> None:
        self.kind = kind
        self.agents = agents
        self.rng = rng
        self.examples: list[tuple[Any, int]] = []
        self.weight = float(rng.uniform(low, low + 0.4)) if kind == "planted" else 0.0

    def study(self, item: Item) -> None:
        assert item.probs is not None
        self.examples.append((item.state, int(np.argmax(item.probs))))
        if item.counterfactual is not None and item.counterfactual_probs is not None:
            self.examples.append((item.counterfactual, int(np.argmax(item.counterfactual_probs))))

    def predict(self, item: Item) -> tuple[list[float], int]:
        assert item.probs is not None
        n = len(item.probs)
        if self.kind == "perfect":
            return [float(p) for p in item.probs], int(np.argmax(item.probs))
        if self.kind == "planted":
            q = (1 - self.weight) * np.asarray(item.probs, dtype=float) + self.weight / n
            return [float(v) for v in q], int(np.argmax(item.probs))
        guess = int(self.rng.integers(n))
        if self.kind == "learner" and self.examples:
            distances = [self.agents.domain.distance(item.state, s) for s, _ in self.examples]
            best = int(np.argmin(distances))
            if math.isfinite(distances[best]):
                action = self.examples[best][1]
                return [float(v) for v in confidence_distribution(action, 0.6, n)], action
        return [1.0 / n] * n, guess

    def spot(self, truth: tuple[str, str]) -> tuple[str, str]:
        if self.kind == "perfect":
            return truth
        return str(self.rng.choice(["A", "B"])), str(self.rng.choice(SPOT_OBJECTS))

    def attend(self, options: tuple[str, ...], answer: str | None) -> str:
        """A guesser picks at random (and fails attention checks as inattentive people do);
        the others read the question."""
        if self.kind == "guesser" or answer is None:
            return str(self.rng.choice(list(options)))
        return answer


def simulate(
    deck: Deck,
    agents: QuizAgents,
    store: AnswerStore,
    *,
    participants: int,
    kinds: tuple[str, ...] = ("learner",),
    seed: int = 0,
    on_done: Callable[[str], None] | None = None,
    planted_lows: dict[str, float] | None = None,
) -> list[str]:
    """Run ``participants`` simulated participants of each kind through ``deck`` into ``store``;
    returns their names (``sim-KIND-NNN``). Each is assigned an arm as a person would be."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown simulated participants {unknown}; choose from {KINDS}")
    users = []
    for kind in kinds:
        for k in range(participants):
            user = f"{USER_PREFIX}{kind}-{k:03d}"
            rng = np.random.default_rng([seed, KINDS.index(kind), k])
            session = QuizSession(deck, user, store, agents, seed=int(rng.integers(2**31)))
            low = (planted_lows or PLANTED_LOWS).get(session.condition, 0.4)
            _run(session, _Participant(kind, agents, rng, low))
            users.append(user)
            if on_done is not None:
                on_done(user)
    return users


def _run(session: QuizSession, person: _Participant) -> None:
    try:
        while (index := session.next_index) is not None:
            item = session.item(index)
            if item.kind == "predict":
                q, chosen = person.predict(item)
                session.answer_predict(item, q, chosen)
            elif item.kind == "construct":
                session.answer_construct(item, item.state)
            elif item.kind == "spot-question":
                flawed, blind_to = person.spot((session.flawed_label, session.spot_truth()))
                session.answer_spot(item, flawed, blind_to)
            elif item.kind == "attention":
                phase = session.phase_of(index)
                session.answer_attention(item, person.attend(phase.options, phase.answer))
            else:
                if item.kind == "study":
                    person.study(item)
                session.answer_view(item)
    finally:
        session.close()
