"""Raw samples of the maze generators: how often each is a perfect maze before any repair.

Usage: python benchmarks/maze_generator_quality.py [--generators zoo:maze-generator ...]
[--n 500] [--steps 20]

For each generator, the trained model and an untrained UNet of the same configuration (fresh
init, seed 0) are sampled from noise with the same seeds and read the same way
(``maze_lattice.read_raw``: nothing repaired), so the reading itself cannot be what makes the
mazes. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

import rl_workbench  # noqa: F401
from rl_workbench.generative import MazeGenerator
from rl_workbench.generative.zoo import load_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--generators", nargs="+", default=["zoo:maze-generator", "zoo:maze15-generator"]
    )
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"{args.n} samples from noise per row, {args.steps} DDIM steps, seed 0; "
        f"{platform.machine()}, 1 torch thread, {time.strftime('%Y-%m-%d')}"
    )
    print()
    print(
        "| generator | world | model | raw perfect mazes | links a tree given the size | "
        "raw whole on-distribution levels | distinct raw levels | s per sample |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for ref in args.generators:
        trained = load_generator(ref)
        if not isinstance(trained, MazeGenerator):
            raise SystemExit(f"{ref} is not a maze generator.")
        torch.manual_seed(0)
        unet = type(trained.unet).from_config(trained.unet.config)
        untrained = MazeGenerator(unet, trained.scheduler, trained.spec)
        for label, gen in (("trained", trained), ("untrained, same shape", untrained)):
            started = time.perf_counter()
            q = gen.sample_quality(n=args.n, steps=args.steps, seed=0)
            seconds = (time.perf_counter() - started) / args.n
            world = gen.spec.world_size
            print(
                f"| {ref} | {world}x{world} | {label} | {q['raw_perfect_maze']:.1%} | "
                f"{q['raw_links_tree_given_size']:.1%} | "
                f"{q['raw_on_distribution']:.1%} | {q['distinct_fraction']:.1%} | "
                f"{seconds:.3f} |"
            )


if __name__ == "__main__":
    main()
