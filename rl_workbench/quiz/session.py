"""One person's pass through a deck, independent of any screen: plan, answers, scores, resume.

The Textual app drives this object; tests drive it directly. Every answer is scored and written
to the store (its own transaction) before the session moves on, so the UI never holds data that
a crash could lose. When the store refuses a write (locked by another program, a disk gone
read-only), the answer is kept in :attr:`QuizSession.pending`, retried with every later answer
and on :meth:`QuizSession.close`, and written to a JSON file if it still cannot be stored: an
answer is never dropped, and never reported as stored when it is not. The condition (explain or
control) belongs to the participant: drawn by block randomisation the first time they take the
deck and kept for every later session (:mod:`rl_workbench.quiz.design`); items are drawn per
participant and never repeat a level they have seen. A study that serves each person the deck
once (``single_session``: ``rlwb quiz serve``) reopens a finished session instead of starting a
new one, so a participant who reloads the page sees their closing screen again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rl_workbench.agents.flaws import BlindAgent
from rl_workbench.counterfactual.result import count_edits
from rl_workbench.envs.maze import is_perfect_maze

from .construct_rules import maze_problems
from .deck import Deck
from .design import condition_for, item_seed
from .items import SPOT_OBJECTS, Item, QuizAgents, build_item, probs_of
from .scoring import ConstructScore, calibration_table, score_prediction
from .store import AnswerStore, Session, SessionLock, StoreError, default_db_path

logger = logging.getLogger(__name__)

CLOSE_RETRIES = 3
"""Tries to store pending answers when the session closes (each waits the store's timeout)."""


@dataclass(frozen=True)
class PendingAnswer:
    """An answer the store has not accepted yet, with everything needed to write it later."""

    item_index: int
    phase: str
    kind: str
    item: dict[str, Any]
    answer: dict[str, Any]
    agent_probs: list[float] | None
    score: dict[str, Any]
    shown_at: float
    answered_at: float
    """When the person answered (Unix seconds), kept so a late write records the real time."""
    columns: dict[str, Any] = field(default_factory=dict)
    """The store's answer columns (chosen action, stated confidence, content digest,
    explanation shown); empty in files kept by versions before them."""


@dataclass(frozen=True)
class CloseReport:
    """What became of a session's answers when it closed.

    Attributes:
        unsaved: answers the database never accepted (0: everything is stored).
        dump: the JSON file holding those answers, or None when there are none (or no folder
            at all would take the file).
        problem: why the database refused them, in the store's words.
    """

    unsaved: int
    dump: Path | None = None
    problem: str | None = None


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
        lock: SessionLock | None = None,
        single_session: bool = False,
    ) -> None:
        self.deck = deck
        self.user = user
        self.store = store
        self.agents = agents
        seed = secrets.randbelow(2**31) if seed is None else seed
        self._lock = lock if lock is not None else store.lock_session(user, deck.name)
        try:
            assigned = store.assign_condition(
                user,
                deck.name,
                lambda position: condition_for(position, deck.conditions, deck.name, deck.seed),
                fixed=condition,
            )
            self.session: Session = store.open_session(
                user, deck.name, deck.digest, assigned, seed, single=single_session
            )
            self._recover_unsaved()
            answered = store.answered(self.session.id)
            # sessions of this person and deck before this one: part of every item's seed
            self.ordinal = store.session_ordinal(self.session)
            self._seen: set[str] = store.seen_digests(user, deck.name)
        except BaseException:
            self._lock.release()
            raise
        self.condition = self.session.condition
        session_rng = np.random.default_rng(self.session.seed)
        self.flawed_label = "A" if session_rng.random() < 0.5 else "B"
        self.slots = [
            Slot(p, i)
            for p, phase in enumerate(deck.phases)
            for i in range(phase.items + (1 if phase.kind == "spot" else 0))
        ]
        self._items: dict[int, Item] = {}
        self._building = threading.Lock()
        self._shown_at: dict[int, float] = {}
        self._answered: set[int] = set(answered)
        self._finished = False
        self.pending: list[PendingAnswer] = []
        """Answers given but not yet accepted by the store, oldest first."""
        self.store_problem: str | None = None
        """Why the store last refused a write (None: everything given so far is stored)."""
        self.close_report: CloseReport | None = None

    # -- navigation -------------------------------------------------------------------------------
    @property
    def next_index(self) -> int | None:
        """The first item without an answer, stored or pending (None: the deck is done)."""
        return next((i for i in range(len(self.slots)) if i not in self._answered), None)

    @property
    def answered_count(self) -> int:
        """Items answered so far (stored or pending), resumed ones included."""
        return len(self._answered)

    def is_built(self, index: int) -> bool:
        """Whether item ``index`` is ready to show without running the agent."""
        return index in self._items

    def built_item(self, index: int) -> Item:
        """Item ``index`` when :meth:`is_built`: without waiting for a build of a later item
        that may be running in a worker (the screen must not wait for it)."""
        return self._items[index]

    def item(self, index: int) -> Item:
        """Build (or reuse) item ``index``; call from a worker, it runs the agent.

        Items are built one at a time and in order (the ones before ``index`` first), so the
        states a participant has seen, which every draw avoids, are the same whether an item is
        built ahead of time, on demand, or again after a resume.
        """
        with self._building:
            for earlier in range(index + 1):
                if earlier == index or earlier not in self._answered:
                    self._build_item(earlier)
            return self._items[index]

    def _build_item(self, index: int) -> None:
        """Build item ``index`` unless it is built already (call with ``_building`` held)."""
        if index in self._items:
            return
        slot = self.slots[index]
        deck, user, ordinal = self.deck, self.user, self.ordinal
        self._items[index] = build_item(
            deck, self.agents, index, slot.phase, slot.within, self.condition,
            self.flawed_label,
            seed_of=lambda attempt: item_seed(
                deck.seed, user, ordinal, slot.phase, slot.within, attempt
            ),
            seen=self._seen,
        )  # fmt: skip

    def shown(self, index: int) -> None:
        """Mark when an item appeared, so the answer's time is measured from there."""
        self._shown_at.setdefault(index, time.time())

    def phase_of(self, index: int) -> Any:
        return self.deck.phases[self.slots[index].phase]

    # -- answers ---------------------------------------------------------------------------------
    def answer_view(self, item: Item) -> dict[str, Any]:
        """Study and spot items are viewed, not scored; the view (and its time) is kept, with
        whether an explanation was on screen."""
        shown = item.counterfactual is not None
        return self._record(
            item, {"viewed": True}, {}, {"explanation_shown": int(shown)} if item.kind == "study"
            else {},
        )  # fmt: skip

    def answer_predict(self, item: Item, q: list[float], chosen: int | None) -> dict[str, Any]:
        """Score a prediction by the action the person chose (raises NoChoiceError, keeping
        nothing, when there is none)."""
        assert item.probs is not None
        score = score_prediction(q, item.probs, chosen).to_dict()
        answer = {"q": [float(v) for v in q]}  # the choice is its own column (and in score)
        columns = {
            "chosen_action": score["chosen_action"],
            "stated_confidence": score["stated_confidence"],
        }
        return self._record(item, answer, score, columns)

    def check_construct(self, item: Item, level: Any) -> str | None:
        """Why an edited level is refused (None: it is legal and within the budget)."""
        if self.agents.domain.family == "minigrid":
            from .grid_rules import grid_refusal

            return grid_refusal(self.agents.domain, item.state, level, item.budget)
        original = item.state
        if level.mouse != original.mouse:
            return "The mouse stays where it is; edit the cheese, the walls or the sign."
        problems = maze_problems(level)
        if problems or not is_perfect_maze(level):
            return "Not a legal maze yet: " + " ".join(problems or ["the lattice was changed."])
        if self.agents.domain.is_on_distribution(level) is False:
            return (
                "Not a level this agent's mazes can have: the cheese or the sign is where the "
                "level generator never puts it."
            )
        used = count_edits(original, level)
        if used > item.budget:
            return f"{used} edits is over the budget of {item.budget}."
        return None

    def answer_construct(self, item: Item, level: Any) -> dict[str, Any]:
        """Run the hidden agent on the person's (legal) level and score the attempt."""
        reason = self.check_construct(item, level)
        if reason is not None:
            raise ValueError(reason)
        probs = probs_of(self.agents.main.agent, level, self.agents.domain)
        success = int(np.argmax(probs)) == item.target
        used = int(self.agents.domain.distance(item.state, level))
        score = ConstructScore(success, used, item.fewest_edits)
        answer = {"level": level.to_dict(), "agent_probs_after": [float(p) for p in probs]}
        return self._record(item, answer, score.to_dict())

    def spot_truth(self) -> str:
        """What the flawed agent cannot see (one of ``SPOT_OBJECTS``)."""
        if isinstance(self.agents.flawed, BlindAgent):
            return self.agents.flawed.blind_to.removeprefix("the ")
        return "cheese"

    def answer_spot(self, item: Item, flawed: str, blind_to: str) -> dict[str, Any]:
        """The closing question: which agent is flawed, and what it cannot see."""
        truth = self.spot_truth()
        score = {
            "agent_correct": flawed == self.flawed_label,
            "object_correct": blind_to == truth,
            "flawed_agent": self.flawed_label,
            "blind_to": truth,
        }
        if blind_to not in SPOT_OBJECTS:
            raise ValueError(f"blind_to must be one of {', '.join(SPOT_OBJECTS)}")
        return self._record(item, {"flawed": flawed, "blind_to": blind_to}, score)

    def answer_attention(self, item: Item, chosen: str) -> dict[str, Any]:
        """An attention check: passed when the person chose the deck's answer."""
        phase = self.deck.phases[item.phase]
        if chosen not in phase.options:
            raise ValueError(f"chosen must be one of {', '.join(phase.options)}")
        score = {"passed": chosen == phase.answer, "answer": phase.answer}
        return self._record(item, {"chosen": chosen, "question": phase.question}, score)

    def _record(
        self,
        item: Item,
        answer: dict[str, Any],
        score: dict[str, Any],
        columns: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Keep the answer, then try to store it (and any earlier one the store refused)."""
        phase = self.deck.phases[item.phase]
        columns = dict(columns or {})
        if item.state is not None:
            columns["state_digest"] = self.agents.domain.content_digest(item.state)
        self.pending.append(
            PendingAnswer(
                item_index=item.index,
                phase=f"{item.phase}:{phase.kind}",
                kind=item.kind,
                item={**item.to_json(self.agents.domain), "condition": self.condition},
                answer=answer,
                agent_probs=None if item.probs is None else [float(p) for p in item.probs],
                score=score,
                shown_at=self._shown_at.get(item.index, time.time()),
                answered_at=time.time(),
                columns=columns,
            )
        )
        self._answered.add(item.index)
        self.flush()
        return score

    def flush(self) -> bool:
        """Write every pending answer, oldest first; True when nothing is left pending.

        A refusal is not an error here: the answer stays in :attr:`pending` and
        :attr:`store_problem` says why, for the app to show.
        """
        try:
            while self.pending:
                p = self.pending[0]
                self.store.record(
                    self.session.id, p.item_index, p.phase, p.kind, p.item, p.answer,
                    p.agent_probs, p.score, p.shown_at, p.answered_at, columns=p.columns,
                )  # fmt: skip
                self.pending.pop(0)
        except StoreError as exc:
            self.store_problem = str(exc)
            return False
        self.store_problem = None
        if self.next_index is None and not self._finished:
            # Every answer is stored; marking the session done is retried on the next flush
            # (a resumed session without the mark shows its results again, nothing is lost).
            try:
                self.store.finish_session(self.session.id)
                self._finished = True
            except StoreError as exc:
                logger.warning("%s", exc)
        return True

    def close(self, retries: int = CLOSE_RETRIES) -> CloseReport:
        """Store what is pending (``retries`` tries), release the session, and write what the
        store still refuses to a JSON file, so nothing is lost. Idempotent.

        Returns:
            How many answers were not stored and where they were kept.
        """
        if self.close_report is not None:
            return self.close_report
        for attempt in range(retries):
            if self.flush():
                break
            if attempt + 1 < retries:
                time.sleep(0.2)
        self._lock.release()
        report = CloseReport(0)
        if self.pending:
            report = CloseReport(len(self.pending), self._dump(), self.store_problem)
        self.close_report = report
        return report

    def pending_json(self) -> str:
        """The pending answers, with their session and the database's complaint, as JSON."""
        return json.dumps(
            {
                "what": "rlwb quiz answers the answer database did not accept",
                "database": str(self.store.path),
                "problem": self.store_problem,
                "session": asdict(self.session),
                "answers": [asdict(p) for p in self.pending],
            },
            indent=1,
        )

    def _dump(self) -> Path | None:
        """Write the pending answers as JSON beside the database, else in the data directory,
        else in the temporary directory; the first folder that takes the file wins."""
        payload = self.pending_json()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{self._dump_prefix()}{stamp}-{os.getpid()}.json"
        for folder in self._dump_folders():
            target = folder / name
            try:
                folder.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(target.name + ".partial")
                partial.write_text(payload)
                os.replace(partial, target)
            except OSError:
                continue
            return target
        return None

    def _dump_prefix(self) -> str:
        return f"{self.store.path.name}.unsaved-{re.sub(r'[^A-Za-z0-9_.-]', '_', self.user)}-"

    def _dump_folders(self) -> list[Path]:
        return [
            self.store.path.parent,
            default_db_path().parent / "unsaved",
            Path(tempfile.gettempdir()),
        ]

    def _recover_unsaved(self) -> int:
        """Store the answers an earlier run of this person had to keep in a file (see
        :meth:`close`), then remove the file; an answer stored since is kept as it is.

        Returns:
            How many answers were recovered.
        """
        recovered = 0
        for folder in self._dump_folders():
            for path in sorted(folder.glob(f"{self._dump_prefix()}*.json")):
                try:
                    kept = json.loads(path.read_text())
                    session_id = int(kept["session"]["id"])
                    if kept["database"] != str(self.store.path) or not self.store.owns_session(
                        session_id, self.user
                    ):
                        continue
                    for a in kept["answers"]:
                        p = PendingAnswer(**a)
                        self.store.record(
                            session_id, p.item_index, p.phase, p.kind, p.item, p.answer,
                            p.agent_probs, p.score, p.shown_at, p.answered_at, keep_existing=True,
                            columns=p.columns,
                        )  # fmt: skip
                        recovered += 1
                    path.unlink()
                except (OSError, ValueError, KeyError, TypeError, StoreError) as exc:
                    logger.warning("Could not recover the kept answers in %s: %s", path, exc)
        if recovered:
            logger.info("Stored %d answer(s) an earlier quiz had kept in a file.", recovered)
        return recovered

    # -- results ---------------------------------------------------------------------------------
    def results(self) -> dict[str, Any]:
        """This session's scores, its calibration table, and the person's history (answers the
        store has not accepted yet included)."""
        try:
            stored = self.store.rows(self.user)
        except StoreError:
            stored = []
        waiting = {p.item_index for p in self.pending}
        rows = [
            r for r in stored if r["session"] != self.session.id or r["item_index"] not in waiting
        ]
        rows += [
            {"session": self.session.id, "user": self.user, "deck": self.deck.name,
             "condition": self.condition, "item_index": p.item_index, "phase": p.phase,
             "kind": p.kind, "item": p.item, "answer": p.answer, "agent_probs": p.agent_probs,
             "score": p.score, "seconds": p.answered_at - p.shown_at}
            for p in self.pending
        ]  # fmt: skip
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
            # Shown apart: naming the flawed agent and saying what it ignores are two answers,
            # and "0%" for a correctly named agent read as a wrong one (issue 14).
            "spot_agent_correct": _mean([r["score"]["agent_correct"] for r in spot]),
            "spot_object_correct": _mean([r["score"]["object_correct"] for r in spot]),
            "calibration": calibration_table(
                [r["score"]["stated_confidence"] for r in predict],
                [r["score"]["top_choice_correct"] for r in predict],
            ),
            "history": history,
        }


def _mean(values: list[Any]) -> float | None:
    return float(np.mean([float(v) for v in values])) if values else None
