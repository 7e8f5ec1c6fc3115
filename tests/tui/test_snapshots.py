"""Snapshot tests of the main quiz screens at 80x24 (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs in tests/tui/__snapshots__/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.test_quiz_app import _app, _wait_for

SIZE = (80, 24)


def _steps_to(screen: str, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        app = pilot.app
        await _wait_for(pilot, app, "WelcomeScreen")
        if screen == "WelcomeScreen":
            return
        await pilot.press("enter")
        route = {
            "StudyScreen": [],
            "PredictScreen": ["enter"],
            # study; two predict items, each a pick, submit, and Enter past the feedback
            "ConstructScreen": ["enter", "1", "enter", "enter", "1", "enter", "enter"],
        }
        for key in route.get(screen, []):
            await pilot.pause(0.1)
            await pilot.press(key)
        if screen == "ResultsScreen":  # answer everything: predict "up", spot agent A, cheese
            for _ in range(40):
                await pilot.pause(0.1)
                name = type(app.screen).__name__
                if name == "ResultsScreen":
                    break
                keys_for = {"PredictScreen": ("1", "enter", "enter"),
                            "SpotQuestionScreen": ("a", "1", "enter")}  # fmt: skip
                if name == "ConstructScreen":  # move the cheese (one legal edit), submit
                    level = app.screen.item.state
                    app.screen.view.cursor = next(
                        c for c in level.free_cells()
                        if level.in_maze(c) and c not in (level.mouse, level.cheese)
                    )  # fmt: skip
                    await pilot.press("c", "enter")
                    await pilot.pause(0.3)
                await pilot.press(*keys_for.get(name, ("enter",)))
        await _wait_for(pilot, app, screen)
        await pilot.press(*keys)
        await pilot.pause(0.1)

    return run_before


@pytest.mark.parametrize(
    ("screen", "keys"),
    [
        ("WelcomeScreen", ()),
        ("StudyScreen", ()),
        ("PredictScreen", ("3", "plus", "plus")),
        ("ConstructScreen", ("up", "w")),
        ("ResultsScreen", ()),
    ],
)
def test_screen_snapshots(snap_compare, tmp_path: Path, screen: str, keys: tuple[str, ...]) -> None:
    app = _app(tmp_path / "snap.sqlite")
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps_to(screen, keys))
