"""Input-to-screen latency of the quiz (target: under 100 ms), measured with the Pilot.

Usage: python benchmarks/quiz_latency.py [--presses 200] [--deck maze]
For each key press the clock runs from sending the key to the moment the screen has processed
it and repainted (``pilot.press`` then ``pilot.pause``: the app is idle again). Kinds of press:
editing an answer on a predict screen (``+``, ``-``, action keys), and moving to the next item
(``enter``: the answer is scored and stored, and the next item's screen mounted; the item was
built ahead in a worker while the person answered, or, if not ready, a loading screen is shown,
counted apart). A key bound to nothing measures what the Pilot itself adds (its press waits for the
app to go idle), to subtract from the others. Headless driver, so terminal output time is not
included; the shipped zoo agent and the real store are.
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

from rl_workbench.quiz.app import create_app


async def _next_screen(pilot, app, key: str = "enter") -> float:
    """Seconds from ``key`` until another screen is mounted."""
    screen = app.screen
    t0 = time.perf_counter()
    await pilot.press(key)
    while app.screen is screen:
        await pilot.pause(0.001)
    return time.perf_counter() - t0


async def measure(deck: str, presses: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "unbound key (Pilot overhead)": [],
        "edit": [],
        "next item after a prediction": [],
        "next item after a study or spot view": [],
        "items shown by a loading screen (not built ahead)": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(deck, "bench", Path(tmp) / "q.sqlite", condition="control", seed=0)
        async with app.run_test(size=(100, 40)) as pilot:
            while type(app.screen).__name__ != "WelcomeScreen":
                await pilot.pause(0.05)
            await pilot.press("enter")
            keys = ["1", "plus", "minus", "2", "plus", "s", "plus", "s"]
            while len(out["edit"]) < presses:
                name = type(app.screen).__name__
                if name == "ResultsScreen":
                    break
                if name == "IntroScreen":  # a phase's card: not an item
                    await _next_screen(pilot, app)
                    continue
                if name == "LoadingScreen":
                    out["items shown by a loading screen (not built ahead)"].append(1.0)
                    while type(app.screen).__name__ == "LoadingScreen":
                        await pilot.pause(0.01)
                    continue
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
                        await _next_screen(pilot, app)
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
                screen = app.screen
                t0 = time.perf_counter()
                await pilot.press("enter")
                await pilot.pause()
                if app.screen is screen:  # feedback on screen: the next Enter moves on
                    t0 = time.perf_counter()
                    await pilot.press("enter")
                while app.screen is screen:
                    await pilot.pause(0.001)
                out["next item after a prediction"].append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--deck", default="maze")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = asyncio.run(measure(args.deck, args.presses))
    print(f"deck {args.deck}, {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print()
    print("| press | n | median ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for kind, values in result.items():
        if kind.startswith("items shown by a loading screen"):
            print(f"| {kind} | {len(values)} | - | - | - |")
            continue
        if not values:
            continue
        ms = sorted(v * 1000 for v in values)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(f"| {kind} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} |")


if __name__ == "__main__":
    main()
