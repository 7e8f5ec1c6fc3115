"""Input-to-screen latency of the quiz (target: under 100 ms), measured with the Pilot.

Usage: python benchmarks/quiz_latency.py [--presses 200] [--deck maze]
For each key press the clock runs from sending the key to the moment the screen has processed
it and repainted (``pilot.press`` then ``pilot.pause``: the app is idle again). Two kinds of
press: editing an answer on a predict screen (``+``, ``-``, action keys), and moving to the next
item (``enter``: the answer is scored and stored, the next item is built in a worker, its screen
mounted). A key bound to nothing measures what the Pilot itself adds (its press waits for the
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


async def measure(deck: str, presses: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"unbound key (Pilot overhead)": [], "edit": [], "next item": []}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(deck, "bench", Path(tmp) / "q.sqlite", condition="control", seed=0)
        async with app.run_test(size=(80, 24)) as pilot:
            while type(app.screen).__name__ != "WelcomeScreen":
                await pilot.pause(0.05)
            await pilot.press("enter")
            keys = ["plus", "minus", "1", "2", "plus", "s", "plus", "s"]
            while len(out["edit"]) < presses:
                name = type(app.screen).__name__
                if name == "ResultsScreen":
                    break
                if name != "PredictScreen":  # study, construct, spot: move on
                    screen = app.screen
                    if name == "SpotQuestionScreen":
                        await pilot.press("a", "1")
                    await pilot.press("enter")
                    if name == "ConstructScreen":
                        while not getattr(screen, "submitted", True):
                            await pilot.pause(0.01)
                        await pilot.pause(0.5)
                        await pilot.press("enter")
                    while app.screen is screen:
                        await pilot.pause(0.001)
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
                t0 = time.perf_counter()
                screen = app.screen
                await pilot.press("enter")
                while app.screen is screen:
                    await pilot.pause(0.001)
                out["next item"].append(time.perf_counter() - t0)
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
        if not values:
            continue
        ms = sorted(v * 1000 for v in values)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(f"| {kind} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} |")


if __name__ == "__main__":
    main()
