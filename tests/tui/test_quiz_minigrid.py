"""A MiniGrid deck end to end with the Pilot: the room drawn with the agent's direction, a study
counterfactual found by search with its change framed and said in words, predictions scored and
stored (issue 15, section 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rl_workbench.agents import LoadedAgent
from rl_workbench.quiz.app import create_app, screen_text
from rl_workbench.quiz.deck import Deck, Phase, parse_deck
from rl_workbench.quiz.items import QuizAgents
from rl_workbench.quiz.store import AnswerStore
from rl_workbench.quiz.widgets import GridView
from rl_workbench.quiz.widgets.grid_view import ARROWS
from tests.tui.pilot import wait_for_screen
from tests.unit.test_minigrid_domain import GoalSeeker

pytestmark = pytest.mark.anyio

ENV = "MiniGrid-Empty-5x5-v0"
PAST = ("IntroScreen", "WelcomeScreen")
"""Screens the session is taken past with enter on the way to the one a test waits for."""


def _agents() -> QuizAgents:
    """A scripted agent (forward when the goal is straight ahead, else turn left): its choices
    hinge on the room, so a search finds the edits that flip them."""
    agent = GoalSeeker(5)
    return QuizAgents(LoadedAgent(agent, Path("scripted.zip"), None, ENV, {}), None)  # type: ignore[arg-type]


def _deck() -> Deck:
    return Deck(
        name="grid",
        description="A tiny MiniGrid deck for tests.",
        env=ENV,
        agent="tiny-grid",
        phases=(
            Phase("study", 1),
            Phase("predict", 2, feedback=True),
            Phase("construct", 1, target="forward", budget=2),
        ),
        digest="grid-1",
    )


async def test_a_minigrid_session_draws_the_room_explains_and_scores(tmp_path: Path) -> None:
    agents = _agents()
    db = tmp_path / "q.sqlite"
    app = create_app(_deck(), "ada", db, agents=agents, condition="explain", seed=3)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_screen(pilot, app, "StudyScreen", tries=750, press_enter_on=PAST)
        views = list(app.screen.query(GridView))
        assert len(views) == 2  # before and after
        before, after = views
        assert after.before is before.state
        assert after.changed_cells()  # the change is framed on the counterfactual
        text = screen_text(app)
        change = next(line for line in text.splitlines() if "Change: " in line)
        assert any(k in change for k in ("goal moved", "wall", "agent moved", "faces")), change
        assert ARROWS[before.state.agent_dir] in text  # the agent's direction is drawn
        assert "▶ agent (points where it faces)" in text
        await pilot.press("enter")
        predicted = 0
        for _ in range(300):
            await pilot.pause(0.05)
            screen = app.screen
            name = type(screen).__name__
            if name == "GridConstructScreen":
                break
            if name == "PredictScreen" and not screen.answered:
                assert list(screen.query(GridView))
                await pilot.press("1", "enter")
                predicted += 1
            elif name in ("PredictScreen", "IntroScreen"):
                await pilot.press("enter")  # past the feedback, or the phase's card
        assert type(app.screen).__name__ == "GridConstructScreen" and predicted == 2
        await pilot.pause()
        screen = app.screen
        room = screen.item.state
        room_pos, room_dir = room.agent_pos, room.agent_dir
        # A gap in the outer wall: drawn as not legal, refused on Enter with the reason.
        screen.view.cursor = (0, 2)
        await pilot.press("w")
        assert "Not a legal room yet" in screen_text(app) and "outer wall" in screen_text(app)
        await pilot.press("enter")
        assert "Refused" in screen_text(app) and not screen.answered
        await pilot.press("u")  # undone: the room as it was
        assert screen.level == room
        # The agent's pose is not the person's to change; the goal is.
        free = next(
            (x, y) for x in range(1, room.width - 1) for y in range(1, room.height - 1)
            if room.object_at((x, y)) == 1 and (x, y) != room.agent_pos
        )  # fmt: skip
        screen.view.cursor = free
        await pilot.press("g", "enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.outcome_shown:
                break
        assert "fewest possible" in screen_text(app)
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "ResultsScreen", tries=750, press_enter_on=PAST)
    store = AnswerStore(db, read_only=True)
    rows = store.rows()
    assert [r["kind"] for r in rows] == ["study", "predict", "predict", "construct"]
    construct = rows[-1]
    assert construct["score"]["edits"] == 1  # the goal moved once; the refused gap undone
    level = construct["answer"]["level"]
    assert level["agent_pos"] == list(room_pos) and level["agent_dir"] == room_dir
    assert all(r["chosen_action"] == 0 for r in rows if r["kind"] == "predict")


def test_minigrid_decks_take_minigrid_actions_and_no_spot_phase() -> None:
    text = (
        "name: g\nenv: MiniGrid-Empty-5x5-v0\nagent: zoo:none\n"
        "phases:\n  - kind: predict\n    items: 2\n"
    )
    assert parse_deck(text).env == ENV
    from rl_workbench.quiz.deck import DeckError

    construct = parse_deck(text.replace("kind: predict", "kind: construct\n    target: forward"))
    assert construct.phases[0].target == "forward"
    with pytest.raises(DeckError, match="an action"):  # a maze action is not a MiniGrid one
        parse_deck(text.replace("kind: predict", "kind: construct\n    target: up"))
    with pytest.raises(DeckError, match="study, predict or construct phases for MiniGrid"):
        parse_deck(text.replace("kind: predict", "kind: spot"))


def test_the_shipped_minigrid_deck_loads_its_agent_and_builds_items() -> None:
    """`rlwb quiz --deck minigrid`: the deck names the zoo's DoorKey agent; a predict item is a
    situation the agent meets in its own play, and a study item's explanation is a legal room
    that changes what the agent does (the agent's pose untouched)."""
    from rl_workbench.domains.minigrid import legality_problems
    from rl_workbench.quiz.deck import resolve_deck
    from rl_workbench.quiz.items import build_item, load_quiz_agents

    deck = resolve_deck("minigrid")
    agents = load_quiz_agents(deck)
    assert agents.domain.family == "minigrid"
    study = build_item(deck, agents, 0, 0, 0, "explain", "A", seed_of=lambda a: 11 + a, seen=set())
    assert study.counterfactual is not None and not legality_problems(study.counterfactual)
    assert int(study.probs.argmax()) != int(study.counterfactual_probs.argmax())
    after = study.counterfactual
    assert (after.agent_pos, after.agent_dir) == (study.state.agent_pos, study.state.agent_dir)
    predict = build_item(deck, agents, 4, 1, 0, "explain", "A", seed_of=lambda a: 29 + a)
    assert predict.probs is not None and predict.probs.shape == (7,)
