"""How the inpainting edit's attempts trade validity against realism (issue 12, section 3).

Usage: python benchmarks/inpainting_attempts.py [--generator zoo:spaceinvaders-inpainter]
           [--states 60] [--attempts '[[6,0],[6,0.3],[10,0.3],[10,1.0],[14,1.0],[14,3.0]]']
           [--centres 4] [--samples 3] [--steps 10]

``diffusion`` with an inpainter tries (box side, guidance step) attempts in turn; stronger
guidance flips more states but its edits look more like what the agent's gradient wants than like
the game. One row per call: validity over ``--states`` states of ``zoo:spaceinvaders-ppo`` (seed
0, target any other action), median seconds and UNet calls, and the matched realism AUC (CNN on
pixels, probe on the agent's features; ``counterfactual/stack_realism.py``) against 600 held-out
real stacks. ``--generator none`` runs the no-model ablation (box-gradient). One torch thread.
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.counterfactual import parse_target, sample_states
from rl_workbench.counterfactual.stack_inpainting import StackInpaintingMethod
from rl_workbench.counterfactual.stack_realism import ReferencePool, matched_realism
from rl_workbench.domains.atari import AtariDomain
from rl_workbench.generative.zoo import load_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generator", default="zoo:spaceinvaders-inpainter")
    parser.add_argument("--states", type=int, default=60)
    parser.add_argument("--reference", type=int, default=600)
    parser.add_argument("--attempts", type=json.loads, default=None)
    parser.add_argument("--centres", type=int, default=None)
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    loaded = load_agent("zoo:spaceinvaders-ppo")
    domain = AtariDomain(loaded.env_id)
    states = sample_states(loaded, args.states, 0)
    pool = ReferencePool.build(
        loaded.agent, domain, sample_states(loaded, args.reference, 20_000_000), exclude=states
    )
    settings = {
        key: value
        for key, value in (
            ("attempts", None if args.attempts is None else tuple(map(tuple, args.attempts))),
            ("centres", args.centres),
            ("samples", args.samples),
            ("steps", args.steps),
        )
        if value is not None
    }
    generator = None if args.generator == "none" else load_generator(args.generator)
    method = StackInpaintingMethod(generator=generator, **settings)  # type: ignore[arg-type]
    target = parse_target("any", loaded.agent.action_names)
    results = [
        method.explain(s, loaded.agent, domain, target, seed=i) for i, s in enumerate(states)
    ]
    made = [r.counterfactual_state for r in results if r.counterfactual_state is not None]
    realism = matched_realism(loaded.agent, domain, made, pool, seed=0)
    print(
        f"| {args.generator} | {json.dumps(settings)} | "
        f"{statistics.mean(r.valid for r in results):.1%} | "
        f"{statistics.median(r.seconds for r in results):.2f} | "
        f"{statistics.median(r.generator_calls for r in results):.0f} | "
        f"{realism.cell('cnn')} | {realism.cell('probe')} |"
    )


if __name__ == "__main__":
    main()
