"""Whole quiz sessions driven with the Pilot: predict, construct, study, spot, results, resume."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rl_workbench.quiz.app import QuizApp, create_app, screen_text
from rl_workbench.quiz.deck import DeckError, parse_deck, resolve_deck
from rl_workbench.quiz.scoring import confidence_distribution, squared_distance
from rl_workbench.quiz.store import AnswerStore
from tests.tui.conftest import DECK, scripted_agents
from tests.tui.pilot import wait_for_screen

pytestmark = pytest.mark.anyio


async def _to_first_prediction(pilot, app: QuizApp) -> None:
    """From the start, past the tiny deck's study item, to its first predict item."""
    await wait_for_screen(pilot, app, "WelcomeScreen")
    await pilot.press("enter")
    await wait_for_screen(pilot, app, "StudyScreen")
    await pilot.press("enter")
    await wait_for_screen(pilot, app, "PredictScreen")


async def answer_until(pilot, app: QuizApp, name: str, tries: int = 400) -> None:
    """Answer every item (first action, agent A and the cheese, one cheese move) until screen
    ``name`` shows."""
    for _ in range(tries):
        await pilot.pause(0.05)
        screen = app.screen
        current = type(screen).__name__
        if current == name:
            return
        if current == "ResultsScreen":
            raise AssertionError(f"the session ended before {name}")
        if current == "PredictScreen" and not screen.answered:
            await pilot.press("1", "enter")
        elif current == "SpotQuestionScreen":
            await pilot.press("a", "1", "enter")
        elif current == "ConstructScreen" and not screen.answered:
            level = screen.item.state
            screen.view.cursor = next(
                c for c in level.free_cells()
                if level.in_maze(c) and c not in (level.mouse, level.cheese)
            )  # fmt: skip
            await pilot.press("c", "enter")
        elif current == "ConstructScreen" and not screen.outcome_shown:
            continue
        elif current not in ("LoadingScreen", "ResultsScreen"):
            await pilot.press("enter")
    raise AssertionError(f"never reached {name}; on {type(app.screen).__name__}")


def _app(db: Path, condition: str = "explain") -> QuizApp:
    return create_app(DECK, "ada", db, agents=scripted_agents(), condition=condition, seed=7)


async def test_a_whole_session_is_scored_and_stored(db: Path) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "StudyScreen")
        shown = screen_text(app)
        assert "After:" in shown and "Change: " in shown  # explain: the whole change, in words
        await pilot.press("enter")
        # Predict with feedback: pick "right", be 0.55 sure, see the agent's answer.
        await wait_for_screen(pilot, app, "PredictScreen")
        item = app.screen.item
        await pilot.press("4", "plus", "plus", "plus", "plus", "plus", "plus", "enter")
        await pilot.pause(0.05)
        assert "The agent:" in screen_text(app)
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "PredictScreen")
        await pilot.press("1", "enter", "enter")
        await wait_for_screen(pilot, app, "ConstructScreen")
        await pilot.press("enter")  # a stray Enter never submits the untouched level
        assert "No edits yet" in screen_text(app)
        level = app.screen.item.state
        app.screen.view.cursor = next(
            c
            for c in level.free_cells()
            if level.in_maze(c) and c not in (level.mouse, level.cheese)
        )
        await pilot.press("c", "enter")  # the cheese moved: a legal attempt
        await pilot.pause(0.3)
        assert "fewest possible" in screen_text(app)
        await pilot.press("enter")
        for _ in range(2):
            await wait_for_screen(pilot, app, "StudyScreen")
            assert "Agent A" in screen_text(app) or "Agent B" in screen_text(app)
            await pilot.press("enter")
        await wait_for_screen(pilot, app, "SpotQuestionScreen")
        # The right agent, the wrong object: the two answers are scored and shown apart.
        await pilot.press(app.session.flawed_label.lower(), "2", "enter")
        await wait_for_screen(pilot, app, "ResultsScreen")
        assert "Spot the flawed agent: named 100%, what it ignores 0%" in screen_text(app)
    rows = AnswerStore(db).rows("ada")
    assert [r["kind"] for r in rows] == [
        "study", "predict", "predict", "construct", "spot", "spot", "spot-question",
    ]  # fmt: skip
    first = rows[1]
    q = confidence_distribution(3, 0.55, 4)
    np.testing.assert_allclose(first["answer"]["q"], q)
    assert first["score"]["squared_distance"] == pytest.approx(squared_distance(q, item.probs))
    assert first["agent_probs"] == pytest.approx(list(item.probs))
    assert all(r["condition"] == "explain" and r["seconds"] >= 0 for r in rows)


async def test_construct_checks_each_edit_says_the_real_rule_and_undoes(db: Path) -> None:
    """Pillars and rooms are refused as the edit is made, with procgen's rule; closing an open
    passage is allowed but the status says rooms are cut off, and Enter refuses the level with
    that reason; undo restores the level; only a legal level is recorded."""
    from rl_workbench.quiz.construct_rules import cell_role, editable_walls

    deck = DECK.__class__(**{**DECK.__dict__, "phases": (DECK.phases[2],), "digest": "c"})
    app = create_app(deck, "bo", db, agents=scripted_agents(), seed=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "ConstructScreen")
        screen = app.screen
        level = screen.item.state
        cells = [(r, c) for r in range(level.world_size) for c in range(level.world_size)]
        pillar = next(c for c in cells if cell_role(level, c) == "pillar")
        screen.view.cursor = pillar
        await pilot.press("w")
        assert "Refused" in screen_text(app) and "pillar" in screen_text(app)
        assert screen.level == level  # nothing changed
        assert screen.view.editable == editable_walls(level)  # the changeable cells are marked
        wall = next(c for c in cells if level.walls[c] and level.in_maze(c))
        screen.view.cursor = wall
        await pilot.press("c")  # the cheese on a wall
        assert "Refused" in screen_text(app) and "wall" in screen_text(app)
        opened = next(c for c in editable_walls(level) if not level.walls[c])
        screen.view.cursor = opened
        await pilot.press("w")  # closing an open passage cuts rooms off: allowed, but said
        assert "cut off" in screen_text(app)
        await pilot.press("enter")
        assert "Refused" in screen_text(app) and "Not a legal maze yet" in screen_text(app)
        assert AnswerStore(db).rows("bo") == []  # nothing recorded for a refused attempt
        await pilot.press("u")
        assert screen.level == level and "A legal maze." in screen_text(app)
        screen.view.cursor = next(
            c
            for c in level.free_cells()
            if level.in_maze(c) and c not in (level.mouse, level.cheese)
        )
        await pilot.press("c", "enter")  # move the cheese: legal
        await pilot.pause(0.3)
        assert len(AnswerStore(db).rows("bo")) == 1


async def test_control_condition_studies_actions_only(db: Path) -> None:
    app = _app(db, condition="control")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        welcome = screen_text(app).lower()
        assert "control" not in welcome and "condition" not in welcome  # the arm stays hidden
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "StudyScreen")
        assert "After:" not in screen_text(app) and "The agent:" in screen_text(app)
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "PredictScreen")
    assert AnswerStore(db).rows("ada")[0]["explanation_shown"] is False


async def test_enter_without_a_pick_stores_nothing_and_says_why(db: Path) -> None:
    """The picker starts with no action chosen: a stray Enter cannot submit a uniform q scored as
    a choice of the first action; a pick of RIGHT at the starting 25% is stored as RIGHT."""
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_first_prediction(pilot, app)
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert "Pick the action you expect first" in screen_text(app)
        assert type(app.screen).__name__ == "PredictScreen"
        await pilot.press("plus")  # "more sure" of nothing: refused the same way
        assert [r["kind"] for r in AnswerStore(db).rows("ada")] == ["study"]
        await pilot.press("4", "enter")
        await pilot.pause(0.05)
    predict = AnswerStore(db).rows("ada")[1]
    assert predict["chosen_action"] == 3 and predict["stated_confidence"] == pytest.approx(0.25)
    assert predict["answer"]["q"] == pytest.approx([0.25] * 4)


async def test_an_interrupted_session_resumes_where_it_stopped(db: Path) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_first_prediction(pilot, app)
        await pilot.press("2", "enter", "enter")
        await wait_for_screen(pilot, app, "PredictScreen")  # the second predict item
        await pilot.press("q")
    again = _app(db, condition="control")  # the participant's assigned condition wins
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, again, "WelcomeScreen")
        assert "Resuming: 2 of 7 items" in screen_text(again)
        assert again.session is not None and again.session.condition == "explain"
        await pilot.press("enter")
        await wait_for_screen(pilot, again, "PredictScreen")
        assert again.screen.item.index == 2


async def test_help_and_an_80x24_terminal(db: Path) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_first_prediction(pilot, app)
        text = screen_text(app)
        assert "Submit" in text and "More sure" in text  # keys in the footer
        assert all(len(line) <= 80 for line in text.splitlines())
        await pilot.press("question_mark")
        await pilot.pause(0.05)
        assert "HelpScreen" == type(app.screen).__name__ and "resumes" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert type(app.screen).__name__ == "PredictScreen"


def test_killing_a_running_quiz_loses_no_answered_item(tmp_path: Path) -> None:
    """A real quiz process (the app under the Pilot) killed with SIGKILL mid-session."""
    db = tmp_path / "kill.sqlite"
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from tests.tui.pilot import wait_for_screen
        from tests.tui.test_quiz_app import _app
        async def main():
            app = _app(__import__("pathlib").Path({str(db)!r}))
            async with app.run_test(size=(80, 24)) as pilot:
                await wait_for_screen(pilot, app, "WelcomeScreen")
                await pilot.press("enter")
                await wait_for_screen(pilot, app, "StudyScreen")
                await pilot.press("enter")
                await wait_for_screen(pilot, app, "PredictScreen")
                await pilot.press("2", "enter")
                print("answered 2", flush=True)
                await asyncio.sleep(60)   # the person walks away; the process is killed
        asyncio.run(main())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    deadline = time.time() + 60
    line = ""
    while "answered" not in line and time.time() < deadline:
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rows = AnswerStore(db).rows("ada")
    assert [r["kind"] for r in rows] == ["study", "predict"]
    assert rows[1]["answer"]["q"][1] == max(rows[1]["answer"]["q"])


def test_shipped_decks_load_and_bad_ones_name_the_line(tmp_path: Path) -> None:
    maze = resolve_deck("maze")
    assert maze.agent == "zoo:maze-uniform" and {p.kind for p in maze.phases} == {
        "study", "predict", "construct", "spot",
    }  # fmt: skip
    assert resolve_deck("spaceinvaders").env == "ALE/SpaceInvaders-v5"
    bad = "name: d\nenv: rlwb/Maze-v0\nagent: zoo:maze-uniform\nphases:\n  - kind: predct\n"
    with pytest.raises(DeckError, match=r"d\.yaml:5: field 'phases\[0\]\.kind'"):
        parse_deck(bad, "d.yaml")
    spot = "name: d\nenv: rlwb/Maze-v0\nagent: a\nphases:\n  - kind: spot\n"
    with pytest.raises(DeckError, match="flawed_agent"):
        parse_deck(spot, "d.yaml")


def test_frame_view_draws_every_pixel_at_full_contrast_and_each_frame() -> None:
    from rl_workbench.quiz.widgets import FrameView

    stack = np.zeros((4, 2, 2), dtype=np.uint8)
    stack[..., 1] = [[0, 100], [50, 25], [7, 7], [9, 9]]  # a dim frame: brightest 100
    view = FrameView(stack)
    assert view.frame_number == 2 and view.frames == 2  # the newest frame first
    text = view.render()
    assert text.plain == "▀▀\n▀▀"  # 4 rows of pixels -> 2 rows of half blocks, every pixel
    styles = [str(span.style) for span in text.spans]
    assert styles[0] == "rgb(0,0,0) on rgb(127,127,127)"  # 50 stretched by 255/100
    assert styles[1] == "rgb(255,255,255) on rgb(63,63,63)"  # the brightest pixel is white
    view.index = 0
    assert {str(span.style) for span in view.render().spans} == {"rgb(0,0,0) on rgb(0,0,0)"}


async def test_the_space_invaders_deck_predicts_from_frames(db: Path) -> None:
    app = create_app("spaceinvaders", "cy", db, condition="control", seed=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen", tries=500)
        await pilot.press("enter")
        for _ in range(3):  # control condition: the agent's action on each study state
            await wait_for_screen(pilot, app, "StudyScreen", tries=500)
            screen = app.screen
            await pilot.press("enter")
            while app.screen is screen:
                await pilot.pause(0.02)
        await wait_for_screen(pilot, app, "PredictScreen", tries=500)
        assert "RIGHTFIRE" in screen_text(app) and "▀" in screen_text(app)
        await pilot.press("6", "plus", "enter")
        await pilot.pause(0.05)
        assert "The agent:" in screen_text(app)  # this deck gives feedback
    rows = AnswerStore(db).rows("cy")
    assert [r["kind"] for r in rows][-1] == "predict" and len(rows[-1]["answer"]["q"]) == 6


def test_stats_per_condition_with_intervals_and_csv(db: Path, tmp_path: Path) -> None:
    import csv

    from click.testing import CliRunner

    from rl_workbench.cli import cli
    from rl_workbench.quiz.session import QuizSession

    store = AnswerStore(db)
    for user, condition in (("ann", "explain"), ("ben", "control")):
        session = QuizSession(DECK, user, store, scripted_agents(), condition=condition, seed=1)
        for index in (1, 2):  # the two predict items
            item = session.item(index)
            q = item.probs if condition == "explain" else np.full(4, 0.25)
            session.answer_predict(item, list(q), int(np.argmax(q)))
    out = tmp_path / "answers.csv"
    result = CliRunner().invoke(cli, ["quiz", "stats", "--db", str(db), "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "participants per arm: control 1, explain 1"
    # ann answered with the agent's own distribution: distance 0 exactly.
    ann = next(line for line in result.output.splitlines() if line.startswith("ann "))
    assert ann.split()[:4] == ["ann", "explain", "2", "0.000"]
    assert "explain - control" in result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4 and {r["condition"] for r in rows} == {"explain", "control"}
    missing = CliRunner().invoke(cli, ["quiz", "stats", "--db", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "take the quiz first" in missing.output


def test_a_corner_construct_item_succeeds_when_the_agent_heads_for_the_corner(db: Path) -> None:
    from rl_workbench.quiz.deck import Phase
    from rl_workbench.quiz.session import QuizSession

    deck = DECK.__class__(
        **{**DECK.__dict__, "phases": (Phase("construct", 1, target="corner"),), "digest": "k"}
    )
    session = QuizSession(deck, "cat", AnswerStore(db), scripted_agents(), seed=0)
    item = session.item(0)
    level = item.state
    assert item.goal == "head for the top-right corner"
    # The scripted cheese-seeker heads for the corner once the cheese sits there: one edit.
    score = session.answer_construct(item, level.move_cheese(level.corner))
    assert score["success"] is True and score["edits"] == 1
    assert score["fewest_edits"] is not None and score["fewest_edits"] <= 1


async def test_clicking_a_cell_moves_the_editing_cursor(db: Path) -> None:
    deck = DECK.__class__(**{**DECK.__dict__, "phases": (DECK.phases[2],), "digest": "m"})
    app = create_app(deck, "dan", db, agents=scripted_agents(), seed=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "ConstructScreen")
        await pilot.click("#editor", offset=(4 * 3 + 1, 2 * 2))  # row 2, column 3
        assert app.screen.view.cursor == (2, 3)


async def test_the_15x15_deck_shows_the_whole_maze_at_80x24(db: Path) -> None:
    from rl_workbench.quiz.widgets.maze_view import MazeView

    app = create_app("maze15", "ada", db, condition="control", seed=7)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen", tries=1500)
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "StudyScreen", tries=1500)
        view = app.screen.query_one(MazeView)
        assert view.state.world_size == 15
        assert (view.size.width, view.size.height) == (30, 15)
        assert view.region.y + view.region.height <= 23  # above the footer, nothing cut off
        assert "◉" in view.render().plain  # the mouse is on screen


def test_a_returning_participant_keeps_their_arm_and_never_sees_a_level_twice(db: Path) -> None:
    """Two sessions of one person: the arm drawn for the first is kept for the second, whatever
    is asked; no level (by content, the mouse aside) repeats within or across the sessions,
    study and test included; another person gets other items."""
    from rl_workbench.quiz.session import QuizSession

    store = AnswerStore(db)
    agents = scripted_agents()
    digests: list[str] = []
    arms = []
    for _ in range(2):
        session = QuizSession(DECK, "eve", store, agents, seed=3)
        arms.append(session.condition)
        while (index := session.next_index) is not None:
            item = session.item(index)
            if item.kind == "predict":
                session.answer_predict(item, [0.25] * 4, 0)
            elif item.kind == "construct":
                session.answer_construct(item, item.state)
            elif item.kind == "spot-question":
                session.answer_spot(item, "A", "cheese")
            else:
                session.answer_view(item)
        session.close()
    assert arms[0] == arms[1]
    for r in store.rows("eve"):
        if r["state_digest"] is not None:
            digests.append(r["state_digest"])
    assert len(digests) == 2 * 6 and len(set(digests)) == len(digests)
    other = QuizSession(DECK, "fay", store, agents, seed=3)
    assert other.item(1).seed not in {
        r["item"]["seed"] for r in store.rows("eve") if r["item_index"] == 1
    }
    other.close()


async def test_an_answered_screen_takes_no_second_answer_and_the_next_item_is_built_ahead(
    db: Path,
) -> None:
    """A second Enter on a screen already answered (while the next item loads) records nothing
    and keeps the first answer's time; the item after the one on screen is built ahead."""
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "StudyScreen")
        study = app.screen
        for _ in range(100):  # the predict item after it is prepared while the study is read
            await pilot.pause(0.02)
            if app.session.is_built(1):
                break
        assert app.session.is_built(1)
        await pilot.press("enter")
        first = AnswerStore(db).rows("ada")
        study.action_next()  # the same screen answered again, as a late key press would
        await pilot.pause(0.05)
        assert AnswerStore(db).rows("ada") == first and len(first) == 1
        assert type(app.screen).__name__ == "IntroScreen"  # the predict phase's card


async def test_a_built_item_is_shown_while_a_later_item_is_still_being_built(db: Path) -> None:
    """The next screen never waits for the build of the item after it (issue 14: next-item
    latency): a build holding the session's build lock for 5 s does not delay a ready item."""
    import threading

    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        await wait_for_screen(pilot, app, "StudyScreen")
        for _ in range(100):
            await pilot.pause(0.02)
            if app.session.is_built(1):
                break
        held = threading.Event()

        def slow_build() -> None:  # stands for the agent building item 2
            with app.session._building:
                held.set()
                time.sleep(5.0)

        threading.Thread(target=slow_build, daemon=True).start()
        held.wait(1)
        await pilot.press("enter")  # to the predict phase's card
        started = time.perf_counter()
        await pilot.press("enter")  # to item 1, built: shown at once
        await wait_for_screen(pilot, app, "PredictScreen", tries=200)
        assert time.perf_counter() - started < 2.5


async def test_a_deck_asking_for_more_levels_than_exist_stops_with_the_reason(db: Path) -> None:
    """3x3 mazes have only a few dozen distinct levels: the quiz stops when no fresh one is left,
    with the reason and exit status 2, every answer so far stored (never "Answers saved")."""
    from rl_workbench.quiz.deck import Phase

    deck = DECK.__class__(
        **{**DECK.__dict__, "env_kwargs": {"max_size": 3, "world_size": 5},
           "phases": (Phase("predict", 60, feedback=False),), "digest": "few"}
    )  # fmt: skip
    app = create_app(deck, "gus", db, agents=scripted_agents(), seed=1)
    answered = 0
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.press("enter")
        for _ in range(3000):
            if app.failure is not None or answered >= 60:
                break
            await pilot.pause(0.02)
            current = type(app.screen).__name__
            if current == "IntroScreen":
                await pilot.press("enter")
            elif current == "PredictScreen" and not app.screen.answered:
                await pilot.press("1", "enter")
                answered += 1
    assert app.failure is not None and "No fresh predict state" in app.failure
    assert app.return_code == 2
    assert len(AnswerStore(db).rows("gus")) == answered < 60


async def test_atari_frames_use_every_pixel_when_the_terminal_has_room(db: Path) -> None:
    """At 140x60 a predict item draws all 84 columns; at 80x24 every third pixel, with a line
    saying which terminal size shows them all; f steps through the four frames."""
    from rl_workbench.quiz.widgets import FrameView

    for size, stride in (((140, 60), 1), ((80, 24), 3)):
        app = create_app("spaceinvaders", f"w{size[0]}", db, condition="control", seed=0)
        async with app.run_test(size=size) as pilot:
            await wait_for_screen(pilot, app, "WelcomeScreen", tries=500)
            await pilot.press("enter")
            await wait_for_screen(pilot, app, "StudyScreen", tries=1500)
            view = app.screen.query_one(FrameView)
            assert view.stride == stride and view.frame_number == 4
            text = screen_text(app)
            assert ("a terminal of" in text) == (stride > 1)
            await pilot.press("f")
            assert view.frame_number == 1 and "frame 1 of 4" in screen_text(app)


async def test_each_phase_opens_with_its_card_the_same_in_both_arms(db: Path) -> None:
    texts = {}
    for user, arm in (("ivy", "explain"), ("jon", "control")):
        app = create_app(DECK, user, db, agents=scripted_agents(), condition=arm, seed=1)
        seen = []
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for_screen(pilot, app, "WelcomeScreen")
            await pilot.press("enter")
            for _ in range(40):
                try:
                    await answer_until(pilot, app, "IntroScreen", tries=200)
                except AssertionError:
                    break  # the session ended: no card is left
                seen.append(app.screen.text)
                await pilot.press("enter")
        texts[arm] = seen
    assert len(texts["explain"]) == len(DECK.phases)  # one card per phase, in order
    assert texts["explain"] == texts["control"]  # nothing on a card tells the arm
    assert (
        "Spot the flawed agent" in texts["explain"][-1]
        and "name the flawed agent" in (texts["explain"][-1])
    )


async def test_a_terminal_below_80x24_is_told_the_size_it_needs(db: Path) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, app, "WelcomeScreen")
        await pilot.resize_terminal(60, 20)
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "TooSmallScreen"
        assert "needs at least 80x24" in screen_text(app)
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "WelcomeScreen"


def test_a_deck_may_write_its_own_phase_cards() -> None:
    text = (
        "name: d\nenv: rlwb/Maze-v0\nagent: zoo:maze-uniform\nphases:\n"
        "  - kind: predict\n    items: 2\n    intro: Guess where it goes.\n"
    )
    from rl_workbench.quiz.screens.intro import intro_text

    assert intro_text(parse_deck(text, "d.yaml").phases[0]) == "Guess where it goes."


async def test_a_study_time_budget_moves_on_by_itself_in_both_arms(db: Path) -> None:
    from rl_workbench.quiz.deck import Phase

    deck = DECK.__class__(
        **{**DECK.__dict__, "phases": (Phase("study", 1, seconds=1), DECK.phases[1]),
           "digest": "timed"}
    )  # fmt: skip
    for user, arm in (("kim", "explain"), ("lee", "control")):
        app = create_app(deck, user, db, agents=scripted_agents(), condition=arm, seed=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for_screen(pilot, app, "WelcomeScreen")
            await pilot.press("enter")
            await wait_for_screen(pilot, app, "StudyScreen")
            await wait_for_screen(pilot, app, "PredictScreen", tries=150)  # no key pressed
        study = AnswerStore(db).rows(user)[0]
        assert study["kind"] == "study" and 0.9 < study["seconds"] < 2.0


def test_a_time_budget_only_belongs_on_study_phases() -> None:
    text = (
        "name: d\nenv: rlwb/Maze-v0\nagent: zoo:maze-uniform\nphases:\n"
        "  - kind: predict\n    seconds: 5\n"
    )
    with pytest.raises(DeckError, match=r"d\.yaml:6: field 'phases\[0\]\.seconds'"):
        parse_deck(text, "d.yaml")


def test_simulated_participants_run_the_pipeline_and_the_statistics_see_them(db: Path) -> None:
    """Perfect simulated participants score 0 distance and 100% accuracy; guessers sit near
    chance; every simulated participant got an arm by the real assignment (2 per block of 4)."""
    from rl_workbench.quiz.simulate import simulate
    from rl_workbench.quiz.stats import summarise

    store = AnswerStore(db)
    users = simulate(DECK, scripted_agents(), store, participants=4, kinds=("perfect", "guesser"))
    assert len(users) == 8 and all(u.startswith("sim-") for u in users)
    summary = summarise(store)
    people = summary["by_person"]
    for user in users:
        if "perfect" in user:
            assert people[user]["squared_distance"] == 0 and people[user]["accuracy"] == 1.0
    guessers = [people[u]["accuracy"] for u in users if "guesser" in u]
    assert np.mean(guessers) < 0.9
    assert sorted(b["people"] for b in summary["by_condition"].values()) == [4, 4]
    spot = [r for r in store.rows() if r["kind"] == "spot-question" and "perfect" in r["user"]]
    assert all(r["score"]["agent_correct"] and r["score"]["object_correct"] for r in spot)
