"""Train the independently seeded Atari agents that the transfer measure needs (issue 12, s. 1).

Usage: python benchmarks/transfer_agents.py [--game spaceinvaders] [--seeds 1 2]
                                            [--steps 300000] [--out runs/transfer] [--threads 1]

Each agent follows its zoo recipe (``spaceinvaders-ppo`` or ``breakout-ppo``: rl-baselines3-zoo's
Atari PPO settings, 8 envs) with another seed, written to OUT/GAME-sSEED/ (agent.zip, card.json,
README.md; checkpoints every 50k steps). Rerunning resumes unfinished agents and skips finished
ones, so the agents can be made across sittings. They are not shipped (about 7 MB each): the
benchmark passes them to ``counterfactual_atari.py --transfer-agents``. Why other seeds: a
counterfactual that changes what the game shows should move other competent agents of the same
game too; an adversarial one, tuned to one network, rarely does.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents.train import train_ppo
from rl_workbench.agents.zoo import RECIPES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--game", choices=("spaceinvaders", "breakout"), default="spaceinvaders")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--out", type=Path, default=Path("runs/transfer"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = RECIPES[f"{args.game}-ppo"].config
    for seed in args.seeds:
        folder = args.out / f"{args.game}-s{seed}"
        if (folder / "card.json").is_file():
            print(f"{folder}: done")
            continue
        config = replace(base, seed=seed, total_steps=args.steps)
        result = train_ppo(
            config,
            folder,
            resume=True,
            progress=False,
            command=f"python benchmarks/transfer_agents.py --game {args.game} --seeds {seed} "
            f"--steps {args.steps}",
        )
        greedy = result.card.evaluation["greedy"]["mean_return"]
        random = result.card.evaluation["random"]["mean_return"]
        print(f"{folder}: greedy {greedy:.1f} vs random {random:.1f}")


if __name__ == "__main__":
    main()
