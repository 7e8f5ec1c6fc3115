"""One person's pass through a deck, independent of any screen: plan, answers, scores, resume.

The Textual app drives this object; tests drive it directly. Every answer is scored and written
to the store (its own transaction) before the session moves on, so the UI never holds data that
a crash could lose. The condition (explain or control) is drawn at random when a session starts
and kept when it resumes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rl_workbench.agents.flaws import BlindChannelAgent
from rl_workbench.counterfactual.result import count_edits
from rl_workbench.envs.maze import MazeState, is_perfect_maze

from .deck import Deck
from .items import SPOT_OBJECTS, Item, QuizAgents, build_item, probs_of
from .scoring import ConstructScore, calibration_table, score_prediction
from .store import AnswerStore, Session


@dataclass(frozen=True)
class Slot:
    """Where an item sits: its phase and its place within the phase."""

    phase: int
    within: int


class QuizSession:
    """A deck, a person, a condition, and the answers so far."""

    def __init__(
        self,
        deck: Deck,
        user: str,
        store: AnswerStore,
        agents: QuizAgents,
        *,
        condition: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.deck = deck
        self.user = user
        self.store = store
        self.agents = agents
        seed = secrets.randbelow(2**31) if seed is None else seed
        rng = np.random.default_rng(seed)
        chosen = condition or deck.conditions[int(rng.integers(len(deck.conditions)))]
        self.session: Session = store.open_session(user, deck.name, deck.digest, chosen, seed)
        self.condition = self.session.condition
        session_rng = np.random.default_rng(self.session.seed)
        self.flawed_label = "A" if session_rng.random() < 0.5 else "B"
        self.slots = [
            Slot(p, i)
            for p, phase in enumerate(deck.phases)
            for i in range(phase.items + (1 if phase.kind == "spot" else 0))
        ]
        self._items: dict[int, Item] = {}
        self._shown_at: dict[int, float] = {}

    # -- navigation -------------------------------------------------------------------------------
    @property
    def next_index(self) -> int | None:
        """The first item without an answer (None: the deck is done)."""
        done = self.store.answered(self.session.id)
        return next((i for i in range(len(self.slots)) if i not in done), None)

    def item(self, index: int) -> Item:
        """Build (or reuse) item ``index``; call from a worker, it runs the agent."""
        if index not in self._items:
            slot = self.slots[index]
            self._items[index] = build_item(
                self.deck, self.agents, index, slot.phase, slot.within, self.condition,
                self.flawed_label,
            )  # fmt: skip
        return self._items[index]

    def shown(self, index: int) -> None:
        """Mark when an item appeared, so the answer's time is measured from there."""
        self._shown_at.setdefault(index, time.time())

    def phase_of(self, index: int) -> Any:
        return self.deck.phases[self.slots[index].phase]

    # -- answers ---------------------------------------------------------------------------------
    def answer_view(self, item: Item) -> dict[str, Any]:
        """Study and spot items are viewed, not scored; the view (and its time) is kept."""
        return self._record(item, {"viewed": True}, {})

    def answer_predict(self, item: Item, q: list[float]) -> dict[str, Any]:
        assert item.probs is not None
        score = score_prediction(q, item.probs).to_dict()
        return self._record(item, {"q": [float(v) for v in q]}, score)

    def check_construct(self, item: Item, level: MazeState) -> str | None:
        """Why an edited level is refused (None: it is legal and within the budget)."""
        original = item.state
        if level.mouse != original.mouse:
            return "The mouse stays where it is; edit the cheese, the walls or the sign."
        if not is_perfect_maze(level):
            return "Not a legal maze: every free square must be reachable by exactly one path."
        used = count_edits(original, level)
        if used > item.budget:
            return f"{used} edits is over the budget of {item.budget}."
        return None

    def answer_construct(self, item: Item, level: MazeState) -> dict[str, Any]:
        """Run the hidden agent on the person's (legal) level and score the attempt."""
        reason = self.check_construct(item, level)
        if reason is not None:
            raise ValueError(reason)
        probs = probs_of(self.agents.main.agent, level)
        success = int(np.argmax(probs)) == item.target
        score = ConstructScore(success, count_edits(item.state, level), item.fewest_edits)
        answer = {"level": level.to_dict(), "agent_probs_after": [float(p) for p in probs]}
        return self._record(item, answer, score.to_dict())

    def answer_spot(self, item: Item, flawed: str, blind_to: str) -> dict[str, Any]:
        """The closing question: which agent is flawed, and what it cannot see."""
        truth = "cheese"
        if isinstance(self.agents.flawed, BlindChannelAgent):
            truth = self.agents.flawed.blind_to.removeprefix("the ")
        score = {
            "agent_correct": flawed == self.flawed_label,
            "object_correct": blind_to == truth,
            "flawed_agent": self.flawed_label,
            "blind_to": truth,
        }
        if blind_to not in SPOT_OBJECTS:
            raise ValueError(f"blind_to must be one of {', '.join(SPOT_OBJECTS)}")
        return self._record(item, {"flawed": flawed, "blind_to": blind_to}, score)

    def _record(self, item: Item, answer: dict[str, Any], score: dict[str, Any]) -> dict[str, Any]:
        phase = self.deck.phases[item.phase]
        self.store.record(
            self.session.id,
            item.index,
            f"{item.phase}:{phase.kind}",
            item.kind,
            {**item.to_json(), "condition": self.condition},
            answer,
            None if item.probs is None else [float(p) for p in item.probs],
            score,
            self._shown_at.get(item.index, time.time()),
        )
        if self.next_index is None:
            self.store.finish_session(self.session.id)
        return score

    # -- results ---------------------------------------------------------------------------------
    def results(self) -> dict[str, Any]:
        """This session's scores, its calibration table, and the person's history."""
        rows = [r for r in self.store.rows(self.user)]
        mine = [r for r in rows if r["session"] == self.session.id]
        predict = [r for r in mine if r["kind"] == "predict"]
        construct = [r for r in mine if r["kind"] == "construct"]
        spot = [r for r in mine if r["kind"] == "spot-question"]
        history = []
        for sid in sorted({r["session"] for r in rows}):
            ps = [r for r in rows if r["session"] == sid and r["kind"] == "predict"]
            if ps:
                history.append(
                    {
                        "session": sid,
                        "answers": len(ps),
                        "mean_squared_distance": float(
                            np.mean([r["score"]["squared_distance"] for r in ps])
                        ),
                        "accuracy": float(np.mean([r["score"]["top_choice_correct"] for r in ps])),
                    }
                )
        return {
            "condition": self.condition,
            "predict_answers": len(predict),
            "mean_squared_distance": _mean([r["score"]["squared_distance"] for r in predict]),
            "accuracy": _mean([r["score"]["top_choice_correct"] for r in predict]),
            "construct_success": _mean([r["score"]["success"] for r in construct]),
            "spot_correct": _mean(
                [r["score"]["agent_correct"] and r["score"]["object_correct"] for r in spot]
            ),
            "calibration": calibration_table(
                [r["score"]["stated_confidence"] for r in predict],
                [r["score"]["top_choice_correct"] for r in predict],
            ),
            "history": history,
        }


def _mean(values: list[Any]) -> float | None:
    return float(np.mean([float(v) for v in values])) if values else None
