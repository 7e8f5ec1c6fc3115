"""Input-to-screen latency of the quiz, measured with the Pilot on the headless driver.

Usage: python benchmarks/quiz_latency.py [--presses 200] [--deck maze] [--sessions 1] [--think 0]

Edits (``+``, ``-``, action keys on a predict screen): the clock runs from sending the key until
the Pilot finds the app idle again (``pilot.press`` then ``pilot.pause``); a key bound to nothing
measures what the Pilot itself adds. Moving to the next item (``enter``: the answer is scored and
stored, the next item's screen mounted): the clock runs from sending the key until the new screen
is first painted (its compositor's first refresh), read inside the app, so the Pilot's own
waiting is not counted. The item was built ahead in a worker while the person looked at the one
before (``--think`` seconds per item), or, when not ready, a loading screen was painted at once
and the item followed when built: those are counted apart, with the time to the item. Terminal
output time is not included; the shipped zoo agent and the real store are.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from textual.screen import Screen

from rl_workbench.quiz.app import create_app

SLOWEST: list[tuple[float, str, str]] = []
"""(seconds, screen left, screen shown) of every timed move to the next screen."""
PAINTED_AT = "_latency_painted_at"

_refresh = Screen._compositor_refresh


def _clocked_refresh(self: Screen, *args, **kwargs):  # type: ignore[no-untyped-def]
    """The screen's refresh, noting when it first painted."""
    result = _refresh(self, *args, **kwargs)
    if not hasattr(self, PAINTED_AT):
        setattr(self, PAINTED_AT, time.perf_counter())
    return result


Screen._compositor_refresh = _clocked_refresh  # type: ignore[method-assign]


async def _painted(pilot, app, leaving) -> Screen:  # type: ignore[no-untyped-def]
    """The screen that replaced ``leaving``, once it has painted."""
    while app.screen is leaving or not hasattr(app.screen, PAINTED_AT):
        await pilot.pause(0.001)
    return app.screen


async def _next_screen(pilot, app, key: str = "enter", out=None) -> float:  # type: ignore[no-untyped-def]
    """Seconds from ``key`` until the next screen painted; a loading screen on the way is
    counted in ``out`` with the time until the item itself painted."""
    screen = app.screen
    t0 = time.perf_counter()
    await pilot.press(key)
    shown = await _painted(pilot, app, screen)
    seconds = getattr(shown, PAINTED_AT) - t0
    if type(shown).__name__ == "LoadingScreen" and out is not None:
        item = await _painted(pilot, app, shown)
        out[NOT_READY].append(getattr(item, PAINTED_AT) - t0)
    SLOWEST.append((seconds, type(screen).__name__, type(shown).__name__))
    return seconds


NOT_READY = "next item not built ahead: key to the item painted (a loading screen first)"


async def measure(
    deck: str, presses: int, sessions: int = 1, think: float = 0.0
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "unbound key (Pilot overhead)": [],
        "edit": [],
        "next item after a prediction": [],
        "next item after a study or spot view": [],
        NOT_READY: [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(sessions):  # each a new participant: more items, the same kinds
            await _one_session(deck, f"bench-{k}", Path(tmp) / "q.sqlite", presses, think, out)
    return out


async def _one_session(
    deck: str, user: str, db: Path, presses: int, think: float, out: dict[str, list[float]]
) -> None:
    app = create_app(deck, user, db, condition="control", seed=0)
    async with app.run_test(size=(100, 40)) as pilot:
        while type(app.screen).__name__ != "WelcomeScreen":
            await pilot.pause(0.05)
        await pilot.press("enter")
        keys = ["1", "plus", "minus", "2", "plus", "s", "plus", "s"]
        while len(out["edit"]) < presses:
            name = type(app.screen).__name__
            if name == "ResultsScreen":
                break
            if name == "IntroScreen":  # a phase's card (read, not timed): not an item
                await pilot.pause(think)
                await _next_screen(pilot, app)
                continue
            if name == "LoadingScreen":  # after a phase card read faster than its item built
                while type(app.screen).__name__ == "LoadingScreen":
                    await pilot.pause(0.01)
                continue
            await pilot.pause(think)  # the person looks at the item before answering
            if name == "ConstructScreen":  # one legal edit (move the cheese), then on
                screen = app.screen
                level = screen.item.state
                screen.view.cursor = next(
                    c for c in level.free_cells()
                    if level.in_maze(c) and c not in (level.mouse, level.cheese)
                )  # fmt: skip
                await pilot.press("c", "enter")
                while not screen.outcome_shown:
                    await pilot.pause(0.01)
                await _next_screen(pilot, app)
                continue
            if name != "PredictScreen":  # study, spot: a view, timed
                if name == "SpotQuestionScreen":
                    await pilot.press("a", "1")
                out["next item after a study or spot view"].append(
                    await _next_screen(pilot, app, out=out)
                )
                continue
            for _ in range(2):
                t0 = time.perf_counter()
                await pilot.press("x")  # bound to nothing: what the harness itself costs
                await pilot.pause()
                out["unbound key (Pilot overhead)"].append(time.perf_counter() - t0)
            for key in keys:
                t0 = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                out["edit"].append(time.perf_counter() - t0)
            if app.screen.feedback:  # the first Enter shows the agent's answer, the next moves on
                await pilot.press("enter")
                await pilot.pause()
            out["next item after a prediction"].append(await _next_screen(pilot, app, out=out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--deck", default="maze")
    parser.add_argument("--sessions", type=int, default=1, help="participants, one after another")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds each item is looked at before the first key (0: answer at once, the "
        "worst case for building the next item ahead)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = asyncio.run(measure(args.deck, args.presses, args.sessions, args.think))
    print(
        f"deck {args.deck}, {args.sessions} session(s), {args.think:g} s per item before the "
        f"first key, {platform.machine()}, {time.strftime('%Y-%m-%d')}"
    )
    print()
    print("| press | n | median ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for kind, values in result.items():
        if not values:
            print(f"| {kind} | 0 | - | - | - |")
            continue
        ms = sorted(v * 1000 for v in values)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(f"| {kind} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} |")
    print()
    print(
        "slowest moves to the next screen: "
        + ", ".join(
            f"{left} -> {shown} {seconds * 1000:.0f} ms"
            for seconds, left, shown in sorted(SLOWEST, reverse=True)[:6]
        )
    )


if __name__ == "__main__":
    main()
