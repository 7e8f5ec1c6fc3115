"""Waiting for a screen in a Pilot test, shared by the quiz's TUI tests."""

from __future__ import annotations

import time

from textual.app import App
from textual.pilot import Pilot

LOADING_LIMIT_S = 600.0
"""How long a deck may load (its agent, states and pictures, on a worker thread) before a test
gives up: loading is not what these tests time, and on a crowded 2-core machine the Space
Invaders deck has taken over 10 s."""


async def wait_for_screen(
    pilot: Pilot,
    app: App,
    name: str,
    tries: int = 100,
    press_enter_on: tuple[str, ...] = ("IntroScreen",),
) -> None:
    """Wait until screen ``name`` shows, pressing enter on the screens in ``press_enter_on`` on the
    way (phase intro cards, tested on their own in test_each_phase_opens_with_its_card). Polls
    while the loading screen shows do not count against ``tries``: a fixed count of polls failed
    a fresh clone on a crowded machine while the deck was still loading."""
    loading_until = time.monotonic() + LOADING_LIMIT_S
    while tries > 0:
        await pilot.pause(0.02)
        current = type(app.screen).__name__
        if current == name:
            await pilot.pause()  # until the screen is composed and mounted, not only switched to
            return
        if current == "LoadingScreen" and time.monotonic() < loading_until:
            continue
        tries -= 1
        if current in press_enter_on:
            await pilot.press("enter")
    raise AssertionError(f"never reached {name}; on {type(app.screen).__name__}")
