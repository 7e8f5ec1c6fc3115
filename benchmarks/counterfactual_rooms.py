"""Every MiniGrid counterfactual method on the same (room, target) pairs, with the generator's
ablations (issue 15, section 2).

Usage: python benchmarks/counterfactual_rooms.py --agents A [B ...] --generator GEN
                                                 [--env rlwb/MiniGrid-GoalRoom-v0] [--pairs 100]

Rows per agent: ``search`` (fewest edits, the ground truth), ``nearest`` (a real room from
``--pool``, 2,000 by default, the agent met), ``diffusion`` with the fitted room generator,
``diffusion-untrained`` (a fresh UNet of the same configuration) and ``no-generator`` (the same
attempts, guidance, decoding and minimality pass with no model). Every flip is judged on the legal
room written back as the env shows it. Columns: validity; median edits (the domain's atomic edits)
over valid flips; the median ratio to search's edits on pairs both solved; "as the env makes" = the
share of valid counterfactuals with no inner wall where the original had none (goal rooms never
have one, so a wall is a change the training distribution cannot show); median seconds, generator
and agent calls. The generator is what the method is named after only if its row beats both
ablations.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.counterfactual import make_method, parse_target, sample_states
from rl_workbench.counterfactual.room_diffusion import RoomDiffusionMethod
from rl_workbench.domains.minigrid import WALL
from rl_workbench.domains.registry import domain_for
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import RoomGenerator, load_generator_folder


def inner_walls(state) -> int:  # type: ignore[no-untyped-def]
    return int((state.array[1:-1, 1:-1, 0] == WALL).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", nargs="+", required=True)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--env", default="rlwb/MiniGrid-GoalRoom-v0")
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--target", default="any")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pool",
        type=int,
        default=2000,
        help="real rooms nearest chooses among (an agent that gets stuck meets few distinct "
        "states, and drawing many costs thousands of episodes)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = load_generator_folder(args.generator)
    assert isinstance(generator, RoomGenerator)
    print(
        f"{args.pairs} (room, target={args.target}) pairs per agent on {args.env}, seed "
        f"{args.seed}, generator {args.generator}; {platform.machine()}, 1 torch thread, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print()
    print(
        "| agent | method | validity | median edits | edits / search's | as the env makes | "
        "median s | median generator calls | median agent calls |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for ref in args.agents:
        loaded = load_agent(ref, args.env, load_agent(ref).env_kwargs)
        domain = domain_for(loaded.env_id, loaded.env_kwargs)
        target = parse_target(args.target, loaded.agent.action_names, domain.landmarks)
        states = sample_states(loaded, args.pairs, args.seed)
        pool = sample_states(loaded, args.pool, args.seed + 10_000_000)
        torch.manual_seed(0)  # a fresh init of the same UNet configuration
        untrained = RoomGenerator(
            type(generator.unet).from_config(generator.unet.config),
            generator.scheduler,
            generator.spec,
        )
        methods = {
            "search": make_method("search"),
            "nearest": make_method("nearest", pool=pool),
            "diffusion": RoomDiffusionMethod(generator=generator),
            "diffusion-untrained": RoomDiffusionMethod(generator=untrained),
            "no-generator": RoomDiffusionMethod(),
        }
        results = {}
        for name, method in methods.items():
            out = []
            for i, state in enumerate(states):
                try:
                    out.append(method.explain(state, loaded.agent, domain, target, seed=i))
                except InvalidArgumentError:
                    out.append(None)  # target met by the original: excluded for every row
            results[name] = out
        for name, out in results.items():
            kept = [r for r in out if r is not None]
            valid = [r for r in kept if r.valid]
            ratio = [
                r.edits / s.edits
                for r, s in zip(out, results["search"], strict=True)
                if r is not None and s is not None and r.valid and s.valid and s.edits
            ]
            env_like = [
                inner_walls(r.counterfactual_state) <= inner_walls(r.original_state) for r in valid
            ]
            print(
                f"| {loaded.name} | {name} | {len(valid) / max(len(kept), 1):.1%} | "
                f"{_med([r.edits for r in valid])} | {_med(ratio, 2)} | "
                f"{np.mean(env_like) if env_like else float('nan'):.1%} | "
                f"{_med([r.seconds for r in kept], 3)} | "
                f"{_med([r.generator_calls for r in kept])} | "
                f"{_med([r.agent_calls for r in kept])} |"
            )


def _med(values: list, digits: int = 0) -> str:  # type: ignore[type-arg]
    if not values:
        return "n/a"
    return f"{float(np.median(values)):.{digits}f}"


if __name__ == "__main__":
    main()
