"""Snapshot tests of the main quiz screens at 80x24 (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs in tests/tui/__snapshots__/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.pilot import wait_for_screen
from tests.tui.test_quiz_app import _app, answer_until

SIZE = (80, 24)


def _steps_to(screen: str, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for_screen(pilot, app, "WelcomeScreen")
        if screen != "WelcomeScreen":
            await pilot.press("enter")
            await answer_until(pilot, app, screen)
        await pilot.press(*keys)
        await pilot.pause(0.1)

    return run_before


@pytest.mark.parametrize(
    ("screen", "keys"),
    [
        ("WelcomeScreen", ()),
        ("IntroScreen", ()),
        ("StudyScreen", ()),
        ("PredictScreen", ("3", "plus", "plus")),
        ("ConstructScreen", ("up", "w")),
        ("ResultsScreen", ()),
    ],
)
def test_screen_snapshots(snap_compare, tmp_path: Path, screen: str, keys: tuple[str, ...]) -> None:
    app = _app(tmp_path / "snap.sqlite")
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps_to(screen, keys))
