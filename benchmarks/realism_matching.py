"""Does a richer matching absorb what the feature probe sees? (issue 12, section 1)

Usage: python benchmarks/realism_matching.py [--pairs 200] [--pool 400] [--reference 2000]
                                             [--cache runs/realism-matching]

The matched realism test (``counterfactual/stack_realism.py``) matches each item to a held-out
real stack with the agent's action and that action's probability. On Space Invaders `nearest`'s
real stacks then sit just off chance for the probe on the agent's features (0.60 [0.52, 0.68]
at 200 pairs), so the probe measures some selection. This asks whether the rest of the agent's
output carries it: every row is judged twice, once with the product's matching and once matched
on the whole action distribution (same action, the free reference stack whose probability vector
is nearest in L1). Rows: both controls (reference vs a disjoint reference, ``nearest`` vs
reference), ``box-gradient`` and ``diffusion``. The same states, pool and reference as
``counterfactual_atari.py`` with its seed 0 (states seed 0, pool seed 10,000,000, reference seed
20,000,000); sampled stacks and every method's outputs are cached in ``--cache``. One torch
thread.
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.counterfactual import make_method, parse_target, sample_states
from rl_workbench.counterfactual.explain import load_method_model
from rl_workbench.counterfactual.stack_inpainting import StackInpaintingMethod
from rl_workbench.counterfactual.stack_realism import (
    ReferencePool,
    matched_realism,
    realism_controls,
    two_sample_auc,
)
from rl_workbench.domains.atari import AtariDomain, AtariState

AGENT = "zoo:spaceinvaders-ppo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--pool", type=int, default=400)
    parser.add_argument("--reference", type=int, default=2000)
    parser.add_argument("--cache", type=Path, default=Path("runs/realism-matching"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.cache.mkdir(parents=True, exist_ok=True)
    loaded = load_agent(AGENT)
    domain = AtariDomain(loaded.env_id)

    def cached(name: str, make: Callable[[], Any]) -> Any:
        path = args.cache / f"{name}.pkl"
        if path.is_file():
            return pickle.loads(path.read_bytes())
        started = time.perf_counter()
        value = make()
        path.write_bytes(pickle.dumps(value))
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
        return value

    def stacks(n: int, seed: int) -> list[AtariState]:
        obs = cached(f"states-{n}-{seed}", lambda: [s.obs for s in sample_states(loaded, n, seed)])
        return [AtariState(o) for o in obs]

    states = stacks(args.pairs, 0)
    pool = stacks(args.pool, 10_000_000)
    reference = ReferencePool.build(
        loaded.agent, domain, stacks(args.reference, 20_000_000), exclude=states
    )
    target = parse_target("any", loaded.agent.action_names)

    def outputs(name: str) -> list[AtariState]:
        def run() -> list[Any]:
            if name == "diffusion":
                model = load_method_model("diffusion", loaded, None, AGENT)
                method = make_method("diffusion", generator=model)
            elif name == "box-gradient":
                method = StackInpaintingMethod(generator=None)
            else:
                method = make_method("nearest", pool=pool)
            results = [
                method.explain(s, loaded.agent, domain, target, seed=i)
                for i, s in enumerate(states)
            ]
            return [
                r.counterfactual_state.obs for r in results if r.counterfactual_state is not None
            ]

        return [AtariState(o) for o in cached(f"{name}-{args.pairs}", run)]

    def probs(items: Sequence[AtariState]) -> np.ndarray:
        with torch.no_grad():
            return torch.cat(
                [
                    loaded.agent.action_probs(torch.stack([domain.encode(s) for s in chunk]))
                    for chunk in (items[i : i + 256] for i in range(0, len(items), 256))
                ]
            ).numpy()

    pool_probs = probs(reference.states)

    def draw(
        item_probs: np.ndarray, rng: np.random.Generator, taken: np.ndarray | None = None
    ) -> tuple[list[int], list[int]]:
        """Per item (random order), the free reference stack with the same action whose
        probability vector is nearest in L1; without replacement."""
        free = np.ones(len(pool_probs), bool) if taken is None else ~taken
        items, drawn = [], []
        for i in rng.permutation(len(item_probs)):
            same = np.flatnonzero(free & (pool_probs.argmax(1) == item_probs[i].argmax()))
            if same.size:
                j = int(same[np.abs(pool_probs[same] - item_probs[i]).sum(1).argmin()])
                free[j] = False
                items.append(int(i))
                drawn.append(j)
        order = np.argsort(items)
        return [items[k] for k in order], [drawn[k] for k in order]

    def judged(real: list[AtariState], candidates: list[AtariState]) -> str:
        cells = [
            str(two_sample_auc(real, candidates, judge=j, agent=loaded.agent, seed=0))
            for j in ("cnn", "probe")
        ]
        return " / ".join(cells) + f" (n={len(candidates)})"

    def full(candidates: list[AtariState]) -> str:
        items, drawn = draw(probs(candidates), np.random.default_rng(0))
        return judged([reference.states[j] for j in drawn], [candidates[i] for i in items])

    nearest = outputs("nearest")
    controls = realism_controls(loaded.agent, domain, nearest, reference, seed=0)
    _, first = draw(probs(nearest), np.random.default_rng(1))
    taken = np.zeros(len(pool_probs), bool)
    taken[first] = True
    second_items, second = draw(pool_probs[first], np.random.default_rng(2), taken)
    print(
        f"{args.pairs} states of {AGENT}, seed 0; {len(reference.states)} reference stacks; "
        f"{time.strftime('%Y-%m-%d')}; cells: CNN / probe AUC [95% CI]"
    )
    print()
    print("| row | action + its probability (the product's) | the whole action distribution |")
    print("|---|---|---|")
    ref = controls.reference
    print(
        f"| reference vs disjoint reference | {ref.cell('cnn')} / {ref.cell('probe')} | "
        f"{judged([reference.states[first[i]] for i in second_items], [reference.states[j] for j in second])} |"  # noqa: E501
    )
    near = controls.nearest
    print(f"| nearest vs reference | {near.cell('cnn')} / {near.cell('probe')} | {full(nearest)} |")
    for name in ("box-gradient", "diffusion"):
        made = outputs(name)
        top = matched_realism(loaded.agent, domain, made, reference, seed=0)
        print(f"| {name} | {top.cell('cnn')} / {top.cell('probe')} | {full(made)} |")


if __name__ == "__main__":
    main()
