"""Success rates of the zoo agents over 200 evaluation episodes, in and out of distribution.

Usage: python benchmarks/zoo_scores.py [--episodes 200] [--agents maze15-corner ...]
Prints a Markdown table for BENCHMARKS.md: every maze agent on its own training distribution, on
cheese-anywhere mazes, and on its world's largest mazes alone (the 15x15 agents' third bar).
"""

from __future__ import annotations

import argparse
import time

import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents import RECIPES, evaluate, load_agent, zoo_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1_000_000)
    parser.add_argument("--agents", nargs="+", default=None, help="zoo names [default: mazes]")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{args.episodes} episodes per cell, seeds {args.seed}.., {time.strftime('%Y-%m-%d')}")
    print()
    print("| agent | test env | sizes | policy | success | mean steps | path efficiency |")
    print("|---|---|---|---|---|---|---|")
    names = args.agents or [n for n in zoo_names() if RECIPES[n].config.env_id.startswith("rlwb/")]
    for name in names:
        loaded = load_agent(f"zoo:{name}")
        largest = int(loaded.env_kwargs.get("max_size", 7))
        tests = [(loaded.env_id, {}), ("rlwb/Maze-v0", {}), (loaded.env_id, {"min_size": largest})]
        for env_id, overrides in dict.fromkeys((e, tuple(o.items())) for e, o in tests):
            kwargs = loaded.env_kwargs | dict(overrides)
            sizes = f"{kwargs.get('min_size', 3)}-{largest}"
            for greedy in (False, True):
                r = evaluate(
                    loaded.agent,
                    env_id,
                    kwargs,
                    episodes=args.episodes,
                    seed=args.seed,
                    greedy=greedy,
                )
                print(
                    f"| {name} | {env_id} | {sizes} | {'greedy' if greedy else 'sampled'} | "
                    f"{r.success_rate:.1%} | {r.mean_steps:.1f} | {r.path_efficiency:.3f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
