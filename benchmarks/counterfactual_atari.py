"""Every Atari counterfactual method on the same (state, target) pairs of the Space Invaders agent.

Usage: python benchmarks/counterfactual_atari.py [--pairs 200] [--target any|other] [--seed 0]
Prints a Markdown table for BENCHMARKS.md (and, with --json, every pair's figures).

States are met by the agent in seeded episodes (``sample_states``: episode seed+i, 0-99 of its
own steps in). ``--target any`` asks for any action other than the agent's; ``--target other``
draws, per pair, one specific other action (the harder question Olson et al. and
GANterfactual-RL asked). Metrics follow REFERENCES.md: validity over all pairs (a pair whose
method returns nothing counts as invalid), proximity and sparsity over the counterfactuals made
(median and mean), realism as the held-out accuracy of a small CNN telling the made
counterfactuals from their originals (0.5: indistinguishable), wall seconds and generator calls
per counterfactual (median). One torch thread, so timings are per core.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.counterfactual import make_method, parse_target, sample_states
from rl_workbench.counterfactual.explain import load_method_model
from rl_workbench.counterfactual.targets import Target
from rl_workbench.domains.atari import AtariDomain, proximity, sparsity
from rl_workbench.domains.realism import realism_accuracy

METHODS = ("diffusion", "latent", "nearest", "pixel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--target", choices=["any", "other"], default="any")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--agent", default="zoo:spaceinvaders-ppo")
    parser.add_argument("--generator", default="zoo:spaceinvaders-generator")
    parser.add_argument("--pool", type=int, default=2000, help="real states for nearest")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--json", type=Path, default=None, help="write every pair's figures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    loaded = load_agent(args.agent)
    domain = AtariDomain()
    states = sample_states(loaded, args.pairs, args.seed)
    targets = _targets(loaded, states, args.target, args.seed)
    pool = (
        sample_states(loaded, args.pool, args.seed + 10_000_000)
        if "nearest" in args.methods
        else None
    )
    rows, records = [], {}
    for name in args.methods:
        model = load_method_model(name, loaded, args.generator, args.agent)
        method = make_method(name, generator=model, pool=pool)
        results = [
            method.explain(state, loaded.agent, domain, target, seed=i)
            for i, (state, target) in enumerate(
                tqdm(list(zip(states, targets, strict=True)), desc=name)
            )
        ]
        made = [r for r in results if r.counterfactual_state is not None]
        prox = [proximity(r.original_state, r.counterfactual_state) for r in made]
        spar = [sparsity(r.original_state, r.counterfactual_state) for r in made]
        realism = realism_accuracy(
            [r.original_state for r in made], [r.counterfactual_state for r in made], seed=0
        )
        rows.append(
            f"| {name} | {np.mean([r.valid for r in results]):.1%} | "
            f"{_stat(prox, statistics.median, 4)} / {_stat(prox, statistics.mean, 4)} | "
            f"{_stat(spar, statistics.median, 4)} / {_stat(spar, statistics.mean, 4)} | "
            f"{'n/a' if realism is None else format(realism, '.3f')} | "
            f"{_stat([r.seconds for r in results], statistics.median, 3)} | "
            f"{_stat([r.generator_calls for r in results], statistics.median, 0)} |"
        )
        records[name] = [
            {
                "valid": r.valid,
                "target": r.target,
                "original_action": r.original_action,
                "counterfactual_action": r.counterfactual_action,
                "proximity": None if r.counterfactual_state is None else p,
                "sparsity": None if r.counterfactual_state is None else s,
                "seconds": r.seconds,
                "generator_calls": r.generator_calls,
            }
            for r, p, s in _with_metrics(results)
        ]
    print(
        f"{args.pairs} (state, target={args.target}) pairs of {loaded.name} on {loaded.env_id}, "
        f"seed {args.seed}; {platform.machine()}, 1 torch thread, {time.strftime('%Y-%m-%d')}"
    )
    print()
    print(
        "| method | validity | proximity (median / mean) | sparsity (median / mean) | "
        "realism (classifier accuracy) | median s | median generator calls |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.json is not None:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"json": str(args.json)}, "pairs": records}, indent=1)
        )


def _targets(loaded, states, mode: str, seed: int) -> list[Target]:
    names = loaded.agent.action_names
    if mode == "any":
        return [parse_target("any", names)] * len(states)
    rng = np.random.default_rng(seed)
    out = []
    for state in states:
        with torch.no_grad():
            probs = loaded.agent.action_probs(AtariDomain().encode(state)[None])[0]
        original = int(probs.argmax())
        other = [a for a in range(len(names)) if a != original]
        out.append(parse_target(names[int(rng.choice(other))], names))
    return out


def _with_metrics(results):
    for r in results:
        if r.counterfactual_state is None:
            yield r, None, None
        else:
            yield (
                r,
                proximity(r.original_state, r.counterfactual_state),
                sparsity(r.original_state, r.counterfactual_state),
            )


def _stat(values, fn, digits: int) -> str:
    return "n/a" if not values else f"{fn(values):.{digits}f}"


if __name__ == "__main__":
    main()
