"""The quiz app: built by ``create_app`` so tests (and labs) can pass their own agents and store.

Everything that can be refused (the deck, the answer database, a second quiz of the same person
and deck, the deck's agents) is checked by ``create_app`` before the app starts, so a mistake is
one line and exit status 2, never a traceback inside the terminal app. Agent work during the
quiz (building an item, running the agent on a constructed level) runs in a Textual thread
worker and posts its result back with ``call_from_thread``, so a key press is answered at once.
Answers are written by the session, each in its own transaction, before the next item is shown;
when the database refuses one, the person is told on screen and the answer is kept and retried.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.worker import get_current_worker

from rl_workbench.errors import RLWorkbenchError

from .deck import Deck, resolve_deck
from .items import Item, ItemDrawError, QuizAgents, load_quiz_agents
from .screens import (
    AttentionScreen,
    ConsentScreen,
    ConstructScreen,
    GridConstructScreen,
    HelpScreen,
    LoadingScreen,
    PredictScreen,
    ResultsScreen,
    SpotQuestionScreen,
    StudyScreen,
    WelcomeScreen,
)
from .screens.intro import MIN_SIZE, IntroScreen, TooSmallScreen, intro_text
from .session import CloseReport, QuizSession
from .store import AnswerStore, SessionLock, StoreError

PREFETCH_DELAY_S = 0.3
"""How long after a screen appears the next item starts building (people take seconds to
answer; mounting a screen takes about 0.1 s)."""
PREFETCH_AHEAD = 3
"""Items built ahead of the one on screen, one after another in one worker. One was not enough
where an item takes longer to build than to answer: a Space Invaders study explanation takes
2.5-7 s to build and a few seconds to look at, so the next one was late (issue 14); building
through the phase while its intro card and first items are read keeps the queue ahead."""


class QuizApp(App[None]):
    """One person, one deck, one session (new or resumed)."""

    CSS_PATH = "quiz.tcss"
    TITLE = "RL Workbench quiz"
    ENABLE_COMMAND_PALETTE = False  # participants get the quiz's keys only (theme, quit...)
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        deck: Deck,
        user: str,
        store: AnswerStore,
        *,
        agents: QuizAgents | None = None,
        condition: str | None = None,
        seed: int | None = None,
        session: QuizSession | None = None,
        lock: SessionLock | None = None,
        needs_consent: bool = False,
        single_session: bool = False,
    ) -> None:
        super().__init__()
        self.single_session = single_session
        self.deck = deck
        self.user = user
        self.store = store
        self.agents = agents
        self.condition = condition
        self.seed = seed
        self.session: QuizSession | None = session
        self.close_report: CloseReport | None = None
        """What became of the answers, set when the app closes (see QuizSession.close)."""
        self._intros_shown: set[int] = set()
        """Phases whose intro card this run has shown (a resumed session shows the current
        phase's card again)."""
        self.failure: str | None = None
        """Why the quiz stopped before its end, when it did (see ``_stop``)."""
        self._lock = lock
        """The session lock create_app took, handed to the session once it is made."""
        self.needs_consent = needs_consent
        """Ask the deck's consent before the session (and the participant) exists."""
        self.declined = False
        """The person did not agree to take part: nothing about them was stored."""
        self.sub_title = f"{deck.name} · {user}"

    # -- start ------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(LoadingScreen())
        if self.needs_consent:
            self.switch_screen(ConsentScreen(self.deck.consent or ""))
        elif self.session is not None:  # built by create_app, before the app started
            self._loaded(self.session)
        else:
            self._load()

    def action_consent(self, agreed: bool) -> None:
        """The answer to the consent screen: an agreement is stored, then the session (arm,
        items) is made; a refusal ends the quiz with nothing stored."""
        if not isinstance(self.screen, ConsentScreen):
            return
        if not agreed:
            self.declined = True
            self.exit()
            return
        try:
            self.store.record_consent(self.user, self.deck.name, self.deck.consent_digest)
        except StoreError as exc:
            self.notify(f"{exc} Try again in a moment.", title="Not stored", severity="error")
            return
        self.needs_consent = False
        self.switch_screen(LoadingScreen())
        self._load()

    def on_unmount(self) -> None:
        """Store what is pending, release the session, keep the rest in a file."""
        if self.session is not None:
            self.close_report = self.session.close()
        elif self._lock is not None:  # no session was made (consent declined or not given)
            self._lock.release()

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        try:
            agents = self.agents or load_quiz_agents(self.deck)
            session = QuizSession(
                self.deck, self.user, self.store, agents, condition=self.condition,
                seed=self.seed, lock=self._lock, single_session=self.single_session,
            )  # fmt: skip
        except RLWorkbenchError as exc:  # the database refused the new session
            self.call_from_thread(self._stop, str(exc))
            return
        self.call_from_thread(self._loaded, session)

    def _loaded(self, session: QuizSession) -> None:
        # Everything loaded so far (torch, the agents, Textual) lives for the whole quiz: frozen
        # out of the collector's full passes, which otherwise stalled the next screen by
        # 100-230 ms now and then (measured with benchmarks/quiz_latency.py; issue 14).
        gc.freeze()
        self.session = session
        total = len(session.slots)
        done = session.answered_count
        self.switch_screen(WelcomeScreen(self.deck.name, self.deck.description, done, total))

    def action_start(self) -> None:
        self.advance()

    def action_intro_done(self) -> None:
        self.advance()

    def on_resize(self, event: events.Resize) -> None:
        """Cover the quiz while the terminal is below the size its screens are laid out for."""
        small = event.size.width < MIN_SIZE[0] or event.size.height < MIN_SIZE[1]
        covered = isinstance(self.screen, TooSmallScreen)
        if small and not covered:
            self.push_screen(TooSmallScreen((event.size.width, event.size.height)))
        elif not small and covered:
            self.pop_screen()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- items ------------------------------------------------------------------------------------
    def advance(self) -> None:
        """Show the first unanswered item, or the results when none is left.

        The item is usually ready (built ahead while the person answered the one before); when
        it is not, a loading screen says which item is being prepared, and the answered screen
        is gone, so no key can answer it twice.
        """
        assert self.session is not None
        index = self.session.next_index
        if index is None:
            self.switch_screen(
                ResultsScreen(
                    self.session.results(),
                    debrief=self.deck.debrief,
                    completion_code=self.deck.completion_code,
                )
            )
            return
        slot = self.session.slots[index]
        attention = self.deck.phases[slot.phase].kind == "attention"  # no card gives it away
        if slot.phase not in self._intros_shown and not attention:  # a phase's card first
            self._intros_shown.add(slot.phase)
            phase = self.deck.phases[slot.phase]
            progress = f" {phase.kind} · phase {slot.phase + 1} of {len(self.deck.phases)}"
            self.switch_screen(IntroScreen(intro_text(phase), progress))
            self._prefetch_soon(index)
            return
        if self.session.is_built(index):
            self._show(self.session.built_item(index))
            return
        total = len(self.session.slots)
        self.switch_screen(LoadingScreen(f"Preparing item {index + 1} of {total}..."))
        self._build(index)

    @work(thread=True, exclusive=True, group="item")
    def _build(self, index: int) -> None:
        assert self.session is not None
        try:
            item = self.session.item(index)
        except ItemDrawError as exc:  # the deck asks for more distinct levels than exist
            self.call_from_thread(self._stop, str(exc))
            return
        self.call_from_thread(self._show, item)

    @work(thread=True, exclusive=True, group="prefetch")
    def _prefetch(self, index: int) -> None:
        """Build the next ``PREFETCH_AHEAD`` items while the person answers the one on screen
        (the agent's and the explanation's work takes from milliseconds to seconds). A newer
        request replaces this one between builds. A failure here is left for ``_build`` to
        report when the item is needed."""
        session = self.session
        if session is None:
            return
        worker = get_current_worker()
        for ahead in range(index, min(index + PREFETCH_AHEAD, len(session.slots))):
            if worker.is_cancelled:
                return
            try:
                session.item(ahead)
            except ItemDrawError:
                return

    def _stop(self, problem: str) -> None:
        """End the quiz on a problem the person cannot fix (answers so far are stored); the
        command reports it in one line with exit status 2."""
        self.failure = problem
        self.exit(return_code=2)

    def _show(self, item: Item) -> None:
        session = self.session
        assert session is not None
        session.shown(item.index)
        phase = session.phase_of(item.index)
        names = session.agents.action_names
        progress = (
            f" {phase.kind} · item {item.index + 1} of {len(session.slots)} · "
            f"phase {item.phase + 1} of {len(self.deck.phases)}"
        )
        if item.kind == "predict":
            screen: Any = PredictScreen(item, names, progress, phase.feedback)
        elif item.kind == "construct":
            family = session.agents.domain.family
            editor = GridConstructScreen if family == "minigrid" else ConstructScreen
            screen = editor(item, names, progress)
        elif item.kind == "spot-question":
            screen = SpotQuestionScreen(item, names, progress)
        elif item.kind == "attention":
            screen = AttentionScreen(item, names, progress, phase.question or "", phase.options)
        else:
            screen = StudyScreen(item, names, progress, phase.seconds)
        self.switch_screen(screen)
        self._prefetch_soon(item.index + 1)

    def _prefetch_soon(self, index: int) -> None:
        """Start building item ``index`` once the screen just switched to is drawn: a build
        started at once holds the interpreter (the agent, the fewest-edit search) while Textual
        mounts the new screen, which made the next screen late (issue 14: p95 413 ms)."""
        self.set_timer(PREFETCH_DELAY_S, lambda: self._prefetch(index))

    # -- answers (called by the screens) ----------------------------------------------------
    def _report_store(self, pending_before: int) -> None:
        """Tell the person when the database refused an answer, and when it took it later."""
        session = self.session
        assert session is not None
        if session.store_problem is not None or pending_before:
            self.clear_notifications()  # one current message, not a stack of old ones
        if session.store_problem is not None:
            n = len(session.pending)
            self.notify(
                f"{session.store_problem} {n} answer{'s' if n != 1 else ''} not stored yet: kept "
                "in memory and retried with your next answer and when you quit.",
                title="Answer not stored",
                severity="error",
                timeout=30,
            )
        elif pending_before:
            self.notify(
                f"The database took the {pending_before} answer"
                f"{'s' if pending_before != 1 else ''} it had refused: everything is stored.",
                title="Answers stored",
                timeout=10,
            )

    def _record_and_advance(self, answer: Callable[[QuizSession], object]) -> None:
        """Give one answer to the session, tell the person what the store did, move on."""
        assert self.session is not None
        before = len(self.session.pending)
        answer(self.session)
        self._report_store(before)
        self.advance()

    def submit_view(self, item: Item) -> None:
        self._record_and_advance(lambda session: session.answer_view(item))

    def submit_predict(
        self, item: Item, q: list[float], chosen: int | None, *, advance: bool
    ) -> dict[str, Any]:
        """Score and store a prediction (raises NoChoiceError, storing nothing, without one)."""
        assert self.session is not None
        before = len(self.session.pending)
        score = self.session.answer_predict(item, q, chosen)
        self._report_store(before)
        if advance:
            self.advance()
        return score

    def check_construct(self, item: Item, level: Any) -> str | None:
        assert self.session is not None
        return self.session.check_construct(item, level)

    @work(thread=True, exclusive=True, group="construct")
    def submit_construct(self, item: Item, level: Any) -> None:
        assert self.session is not None
        before = len(self.session.pending)
        score = self.session.answer_construct(item, level)
        from .items import probs_of

        agents = self.session.agents
        probs = [float(p) for p in probs_of(agents.main.agent, level, agents.domain)]
        self.call_from_thread(self._construct_done, score, probs, before)

    def _construct_done(self, score: dict[str, Any], probs: list[float], before: int = 0) -> None:
        self._report_store(before)
        if isinstance(self.screen, (ConstructScreen, GridConstructScreen)):
            self.screen.show_outcome(score, probs)

    def submit_attention(self, item: Item, chosen: str) -> None:
        self._record_and_advance(lambda session: session.answer_attention(item, chosen))

    def submit_spot(self, item: Item, flawed: str, blind_to: str) -> None:
        self._record_and_advance(lambda session: session.answer_spot(item, flawed, blind_to))


def create_app(
    deck: str | Path | Deck,
    user: str,
    db: str | Path | None = None,
    *,
    agents: QuizAgents | None = None,
    condition: str | None = None,
    seed: int | None = None,
    trust_agent: bool = False,
    single_session: bool = False,
) -> QuizApp:
    """The quiz for ``user`` on ``deck`` (a path, a shipped deck's name, or a Deck), answers in
    ``db`` (default: the user's data directory).

    Everything that can be refused is checked here, before the app starts: the deck, the
    database (writable, a quiz database, not locked), the session (no other quiz process of the
    same person and deck), and the deck's agents, loaded with ``trust_agent`` (see
    :func:`rl_workbench.agents.load_agent`). A deck with ``consent`` asks it first (the app's
    consent screen) unless this person agreed to the same text before; ``single_session`` (the
    browser study) reopens a finished session rather than starting another.

    Raises:
        DeckError: the deck is missing or wrong.
        StoreError: the database cannot be used, or the session is held by another process.
        AgentLoadError: an agent of the deck cannot (or may not) be loaded.
    """
    loaded = deck if isinstance(deck, Deck) else resolve_deck(deck)
    store = AnswerStore(db)
    lock: SessionLock | None = None
    try:
        lock = store.lock_session(user, loaded.name)
        if agents is None:
            agents = load_quiz_agents(loaded, trust=trust_agent)
        if loaded.consent and not store.has_consented(user, loaded.name, loaded.consent_digest):
            return QuizApp(
                loaded, user, store, agents=agents, condition=condition, seed=seed, lock=lock,
                needs_consent=True, single_session=single_session,
            )  # fmt: skip
        session = QuizSession(
            loaded, user, store, agents, condition=condition, seed=seed, lock=lock,
            single_session=single_session,
        )  # fmt: skip
    except BaseException:
        if lock is not None:
            lock.release()
        store.close()
        raise
    return QuizApp(
        loaded, user, store, agents=agents, condition=condition, seed=seed, session=session,
        single_session=single_session,
    )  # fmt: skip


def screen_text(app: App[Any]) -> str:
    """The current screen as plain text (what ``export_screenshot`` draws, without the SVG), for
    text captures in docs and for tests that read the screen."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system=None,
        legacy_windows=False, safe_box=False,
    )  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()
