"""Success rates of the zoo agents over 200 evaluation episodes, in and out of distribution.

Usage: python benchmarks/zoo_scores.py [--episodes 200]
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import time

import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents import evaluate, load_agent, zoo_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1_000_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{args.episodes} episodes per cell, seeds {args.seed}.., {time.strftime('%Y-%m-%d')}")
    print()
    print("| agent | test env | policy | success | mean steps | path efficiency |")
    print("|---|---|---|---|---|---|")
    for name in zoo_names():
        loaded = load_agent(f"zoo:{name}")
        for env_id in dict.fromkeys([loaded.env_id, "rlwb/Maze-v0"]):
            for greedy in (False, True):
                r = evaluate(
                    loaded.agent,
                    env_id,
                    loaded.env_kwargs,
                    episodes=args.episodes,
                    seed=args.seed,
                    greedy=greedy,
                )
                print(
                    f"| {name} | {env_id} | {'greedy' if greedy else 'sampled'} | "
                    f"{r.success_rate:.1%} | {r.mean_steps:.1f} | {r.path_efficiency:.3f} |"
                )


if __name__ == "__main__":
    main()
