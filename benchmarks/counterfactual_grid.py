"""Every counterfactual method on the same (state, target) pairs for each zoo maze agent.

Usage: python benchmarks/counterfactual_grid.py [--pairs 200] [--target any] [--seed 0]
Prints a Markdown table for BENCHMARKS.md. Edit optimality divides a method's edits by the
search optimum on the same pair (pairs where both are valid); "reachable" pairs are those where
search finds any legal flip within its depth, and validity is reported over all pairs and over
the reachable ones. Single wall toggles always leave the perfect-maze distribution, so the
unrestricted search optimum is often an off-distribution level; the second ratio divides by the
fewest edits of an on-distribution-only search (beam 64 by default, depth 3), the fair yardstick
for methods whose levels are always on-distribution; "on-dist reachable" pairs are those where
that search finds a flip (a lower bound: the beam is not exhaustive).

Every generator-based row comes with its two ablations (issue 13): ``diffusion-untrained``, the
same pipeline with a fresh UNet of the same configuration, and ``guided-projection``, the same
attempts and guided steps on the lattice with no model (projection and minimality alone; before
it was a method of its own, tables called this row ``no-generator``). Agent calls
(observations the agent evaluated, gradient steps included) are counted for every row; the last
column says how often a diffusion row's denoised sample was already a perfect maze (its parent
links a tree), i.e. how often the projection had nothing to repair.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.counterfactual import METHOD_NAMES, make_method, parse_target, sample_states
from rl_workbench.counterfactual.level_diffusion import LevelDiffusionMethod
from rl_workbench.counterfactual.search import SearchMethod
from rl_workbench.domains.registry import domain_for
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import MazeGenerator
from rl_workbench.generative.zoo import load_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--target", default="any")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ondist-beam",
        type=int,
        default=64,
        help="beam of the on-distribution search yardstick (16 at 15x15 keeps it to minutes)",
    )
    parser.add_argument("--agents", nargs="+", default=["zoo:maze-corner", "zoo:maze-uniform"])
    parser.add_argument(
        "--generator",
        default="zoo:maze-generator",
        help="the diffusion rows' generator; 'none' leaves them out (no generator fits the world)",
    )
    parser.add_argument(
        "--env",
        default="rlwb/Maze-v0",
        help="levels are drawn from, and judged on-distribution for, this env",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = None if args.generator == "none" else load_generator(args.generator)
    print(
        f"{args.pairs} (state, target={args.target}) pairs per agent, seed {args.seed}; "
        f"{platform.machine()}, 1 torch thread, {time.strftime('%Y-%m-%d')}"
    )
    print()
    print(
        "| agent | method | validity | validity (reachable) | validity (on-dist reachable) | "
        "median edits | "
        "median edit optimality | ... vs on-distribution optimum | on-distribution | "
        "median s | median generator calls | median agent calls | mean agent calls | "
        "denoised samples already a perfect maze |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for ref in args.agents:
        loaded = load_agent(ref, args.env, load_agent(ref).env_kwargs)
        domain = domain_for(loaded.env_id, loaded.env_kwargs)
        target = parse_target(args.target, loaded.agent.action_names, domain.landmarks)
        states = sample_states(loaded, args.pairs, args.seed)
        pool = sample_states(loaded, 2000, args.seed + 10_000_000)
        results = {}
        raw_trees: dict[str, str] = {}
        others = [m for m in METHOD_NAMES if m != "search" and m in domain.methods]
        # guided-projection (in ``others``) is diffusion's no-generator ablation.
        ablations = ["diffusion-untrained"] if generator is not None else []
        for name in ("search", "search-ondist", *others, *ablations):
            if name == "search-ondist":
                method = SearchMethod(on_distribution_only=True, beam_width=args.ondist_beam)
            elif name == "diffusion-untrained":
                torch.manual_seed(0)  # a fresh init of the same UNet configuration
                unet = type(generator.unet).from_config(generator.unet.config)
                method = LevelDiffusionMethod(
                    generator=MazeGenerator(unet, generator.scheduler, generator.spec)
                )
            elif name == "diffusion" and generator is None:
                continue
            else:
                method = make_method(name, generator=generator, pool=pool)
            out = []
            for i, state in enumerate(states):
                try:
                    out.append(method.explain(state, loaded.agent, domain, target, seed=i))
                except InvalidArgumentError:
                    out.append(None)  # target = original: excluded for every method alike
            results[name] = out
            if isinstance(method, LevelDiffusionMethod) and method.decoded:
                raw_trees[name] = f"{method.raw_trees / method.decoded:.1%} of {method.decoded}"
        reachable = [r is not None and r.valid for r in results["search"]]
        reachable_on = [r is not None and r.valid for r in results["search-ondist"]]
        for name, out in results.items():
            kept = [
                (r, s, ok)
                for r, s, ok in zip(out, results["search"], reachable, strict=True)
                if r is not None
            ]
            validity = np.mean([r.valid for r, _, _ in kept])
            reach = [r.valid for r, _, ok in kept if ok]
            reach_on = [
                r.valid for r, ok in zip(out, reachable_on, strict=True) if r is not None and ok
            ]
            edits = [r.edits for r, _, _ in kept if r.valid]
            ratio = [r.edits / s.edits for r, s, ok in kept if r.valid and ok and s.edits]
            ondist = [
                r.edits / s.edits
                for r, s in zip(out, results["search-ondist"], strict=True)
                if r is not None and s is not None and r.valid and s.valid and s.edits
            ]
            on_dist = [bool(r.on_distribution) for r, _, _ in kept if r.counterfactual_state]
            print(
                f"| {loaded.name} | {name} | {validity:.1%} | "
                f"{np.mean(reach):.1%} | {np.mean(reach_on):.1%} | {_med(edits)} | "
                f"{_med(ratio, 2)} | {_med(ondist, 2)} | "
                f"{np.mean(on_dist):.1%} | {_med([r.seconds for r, _, _ in kept], 3)} | "
                f"{_med([r.generator_calls for r, _, _ in kept])} | "
                f"{_med([r.agent_calls for r, _, _ in kept], 0)} | "
                f"{np.mean([r.agent_calls for r, _, _ in kept]):.0f} | "
                f"{raw_trees.get(name, 'n/a')} |"
            )


def _med(values: list[float], digits: int = 1) -> str:
    return "n/a" if not values else f"{statistics.median(values):.{digits}f}"


if __name__ == "__main__":
    main()
