"""Keep finished population agents in the repository, so a population outlives a sitting.

Usage: python benchmarks/population_store.py save [--runs runs] [--store benchmarks/populations]
       python benchmarks/population_store.py restore [--runs runs] [--store benchmarks/populations]

Why this exists: the 15x15 population (issue 16) is 40 agents of about 47 minutes each on one
core, some 31 core-hours, and the machines it is built on keep nothing outside git from one
sitting to the next. So each finished agent is committed: ``save`` copies every finished
training task of ``POPULATIONS`` (its ``tasks/KEY.json`` record and its agent's ``agent.zip``,
``card.json`` and ``README.md``; never checkpoints) from ``runs/`` into the store, and
``restore`` copies them back, after which ``benchmarks/audit_population.py`` skips them as the
ledger says they are done. A first-stage (imitation-only) agent is kept only while its second
stage is unfinished: the second stage's card records its starting agent's hash, and nothing
after it reads the first stage. About 340 kB per agent.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

POPULATIONS = {"population15": "population15ppo"}
"""First stage -> second stage, as ``benchmarks/audit_population.py --scale 15`` makes them."""
AGENT_FILES = ("agent.zip", "card.json", "README.md")


def _agent(population: Path, group: str, key: str) -> Path:
    """The agent folder of training task ``key`` (``train--seed-N`` -> ``seed-N``)."""
    return population / group / f"seed-{key.rsplit('-', 1)[1]}"


def finished(population: Path, group: str, key: str) -> bool:
    """Whether the ledger holds ``key`` as done and its agent is there."""
    try:
        record = json.loads((population / group / "tasks" / f"{key}.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        record.get("status") == "done" and (_agent(population, group, key) / "agent.zip").is_file()
    )


def tasks_of(root: Path, population: str = "*") -> list[tuple[str, str, str]]:
    """(population, group, task key) for every training task recorded under ``root``."""
    found = []
    for ledger in sorted(root.glob(f"{population}/*/tasks/train--seed-*.json")):
        group = ledger.parent.parent
        found.append((group.parent.name, group.name, ledger.stem))
    return found


def copy_task(source: Path, target: Path, group: str, key: str) -> None:
    (target / group / "tasks").mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / group / "tasks" / f"{key}.json", target / group / "tasks")
    agent = _agent(target, group, key)
    agent.mkdir(parents=True, exist_ok=True)
    for name in AGENT_FILES:
        if (_agent(source, group, key) / name).is_file():
            shutil.copy2(_agent(source, group, key) / name, agent / name)


def drop_task(root: Path, group: str, key: str) -> None:
    (root / group / "tasks" / f"{key}.json").unlink(missing_ok=True)
    shutil.rmtree(_agent(root, group, key), ignore_errors=True)


def save(runs: Path, store: Path) -> tuple[int, int]:
    """Copy finished tasks into the store; return (kept, dropped first stages)."""
    kept = dropped = 0
    for first, second in POPULATIONS.items():
        for population in (first, second):
            for _, group, key in tasks_of(runs, population):
                if not finished(runs / population, group, key):
                    continue
                if population == first and finished(runs / second, group, key):
                    continue  # its second stage is done and kept instead
                copy_task(runs / population, store / population, group, key)
                kept += 1
        for _, group, key in tasks_of(store, first):
            if finished(store / second, group, key):
                drop_task(store / first, group, key)
                dropped += 1
    return kept, dropped


def restore(runs: Path, store: Path) -> int:
    """Copy the store's tasks into ``runs`` where ``runs`` has no finished one; return how many."""
    copied = 0
    for population, group, key in tasks_of(store):
        if finished(store / population, group, key) and not finished(runs / population, group, key):
            copy_task(store / population, runs / population, group, key)
            copied += 1
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("save", "restore"))
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--store", type=Path, default=Path("benchmarks/populations"))
    args = parser.parse_args()
    if args.action == "save":
        kept, dropped = save(args.runs, args.store)
        print(f"{kept} finished agents in {args.store}; {dropped} first stages no longer needed")
    else:
        print(f"{restore(args.runs, args.store)} finished agents copied into {args.runs}")


if __name__ == "__main__":
    main()
