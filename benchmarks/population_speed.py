"""What the population engines buy: one population audit, serial vs process pool vs local Ray.

Usage: python benchmarks/population_speed.py [--population runs/population] [--agents 20]
                                             [--mazes 1000] [--workers 2] [--out runs/speed]

Takes the first ``--agents`` agents of ``audit_population.py``'s corner and uniform groups
(alternating, so both halves of the run hold both kinds), audits them with the corner and the sign
suites (agents x 2 tasks), and times the whole ``rlwb audit --population`` command, start-up
included, once per engine, each into a fresh folder; then the pool again on half the agents for
the cost of one more agent. Every engine must give the same rows (checked). Prints Markdown for
BENCHMARKS.md. Target (issue 16): at least 1.8x over serial on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path


def audit(listing: Path, out: Path, mazes: int, engine: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable, "-m", "rl_workbench", "--quiet", "audit", "--population", str(listing),
        "--suite", "corner", "--suite", "sign", "--mazes", str(mazes), "--out", str(out), *engine,
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def rows(out: Path) -> list[tuple]:
    data = json.loads((out / "report.json").read_text())
    return sorted(
        (r["agent"], r["suite"], r["verdict"], str(r["proxy_pursuit"])) for r in data["agents"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=Path, default=Path("runs/population"))
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--mazes", type=int, default=1000)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--out", type=Path, default=Path("runs/speed"))
    args = parser.parse_args()
    groups = [sorted((args.population / g).glob("seed-*")) for g in ("corner", "uniform")]
    agents = [p for pair in zip(*groups, strict=False) for p in pair][: args.agents]
    args.out.mkdir(parents=True, exist_ok=True)
    listing = args.out / "agents.txt"
    listing.write_text("".join(f"{p.resolve()}\n" for p in agents))
    half = args.out / "half.txt"
    half.write_text("".join(f"{p.resolve()}\n" for p in agents[: len(agents) // 2]))
    w = args.workers
    engines = {
        "serial": ["--serial"],
        f"process pool ({w} workers)": ["--workers", w],
        f"Ray, local ({w} CPUs)": ["--ray", "--workers", w],
    }
    print(
        f"{len(agents)} agents x 2 suites x {args.mazes} mazes, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d')}; whole command timed, start-up included"
    )
    print()
    print("| engine | seconds | speed-up over serial | seconds per audit |")
    print("|---|---|---|---|")
    seconds: dict[str, float] = {}
    reference = None
    for name, engine in engines.items():
        out = args.out / name.split()[0].lower()
        seconds[name] = audit(listing, out, args.mazes, engine)
        if reference is None:
            reference = rows(out)
        elif rows(out) != reference:
            print(f"| {name} | rows differ from serial: a bug |||")
        serial = seconds["serial"]
        print(
            f"| {name} | {seconds[name]:.1f} | {serial / seconds[name]:.2f}x | "
            f"{seconds[name] / (2 * len(agents)):.2f} |"
        )
    pool = f"process pool ({w} workers)"
    small = audit(half, args.out / "half", args.mazes, engines[pool])
    extra = (seconds[pool] - small) / (len(agents) - len(agents) // 2)
    print()
    print(
        f"Cost of one more agent (both suites) on the pool: {extra:.2f} s "
        f"({len(agents) // 2} agents {small:.1f} s, {len(agents)} agents {seconds[pool]:.1f} s)."
    )


if __name__ == "__main__":
    main()
