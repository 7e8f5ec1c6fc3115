"""How the inpainting edit's attempts trade validity against realism (issue 12, section 3).

Usage: python benchmarks/inpainting_attempts.py [--generator zoo:spaceinvaders-inpainter]
           [--states 60] [--reference 600] [--attempts '[[[6,10,14],0],[[10,14],1]]']
           [--centres 4] [--samples 2] [--steps 10] [--prefer closest|persistent|purified]
           [--purify 0.3] [--label-scale 3] [--target any|other]
           [--transfer-agents A.zip B.zip] [--cache stacks.npz]
           [--real-patches DATA [--per-box 64] [--bank-size N] [--unselected]] [--peers A.zip ...]

``diffusion`` with an inpainter tries (box sides, guidance step) attempts in turn; stronger
guidance flips more states but its edits look more like what the agent's gradient wants than like
the game. One row per call: validity over ``--states`` states of ``zoo:spaceinvaders-ppo`` (seed
0; target any other action, or with ``--target other`` one specific other action per state),
median seconds and UNet calls, the matched realism AUC (CNN on pixels, probe on the agent's
features; ``counterfactual/stack_realism.py``) against ``--reference`` held-out real stacks, and
the share of valid counterfactuals that move each ``--transfer-agents`` agent
(``benchmarks/transfer_agents.py`` makes them). ``--generator none`` runs the no-model ablation
(box-gradient); ``--real-patches DATA`` fills the same kind of boxes with real patches of a
collected dataset instead (``real_patches.py``, no model at all); ``--peers`` guides and selects
by other agents too (``consensus_guidance.py``). ``--cache`` keeps the sampled
stacks so that variants are compared on the same states without sampling them again. One torch
thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import torch
from consensus_guidance import ConsensusMethod
from real_patches import RealPatchMethod

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.counterfactual import parse_target, sample_states
from rl_workbench.counterfactual.base import Method
from rl_workbench.counterfactual.stack_inpainting import StackInpaintingMethod
from rl_workbench.counterfactual.stack_realism import (
    ReferencePool,
    agent_actions,
    matched_realism,
    transfer,
)
from rl_workbench.data.dataset import Dataset
from rl_workbench.domains.atari import AtariDomain, AtariState
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
    parser.add_argument("--prefer", choices=("closest", "persistent", "purified"), default=None)
    parser.add_argument("--target", default="any")
    parser.add_argument("--purify", type=float, default=None)
    parser.add_argument(
        "--label-scale",
        type=float,
        default=None,
        help="classifier-free guidance toward the target action (conditioned inpainters)",
    )
    parser.add_argument("--transfer-agents", nargs="*", default=[])
    parser.add_argument(
        "--real-patches",
        type=Path,
        default=None,
        metavar="DATA",
        help="no model: fill the boxes with real patches from this dataset (real_patches.py)",
    )
    parser.add_argument("--per-box", type=int, default=64, help="real patches tried per box")
    parser.add_argument(
        "--unselected",
        action="store_true",
        help="with --real-patches: return a random candidate, flip or not (the control)",
    )
    parser.add_argument(
        "--bank-size", type=int, default=None, help="use the dataset's first N stacks [all]"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="keep the sampled stacks here (npz) for reruns"
    )
    parser.add_argument(
        "--peers",
        nargs="+",
        default=[],
        metavar="AGENT",
        help="guide by these agents too and keep flips that move them (consensus_guidance.py); "
        "measure transfer on others",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    loaded = load_agent("zoo:spaceinvaders-ppo")
    domain = AtariDomain(loaded.env_id)
    states, reference = _states(loaded, args)
    pool = ReferencePool.build(loaded.agent, domain, reference, exclude=states)
    settings = {
        key: value
        for key, value in (
            ("attempts", None if args.attempts is None else _attempts(args.attempts)),
            ("centres", args.centres),
            ("samples", args.samples),
            ("steps", args.steps),
            ("prefer", args.prefer),
            ("purify", args.purify),
            ("label_scale", args.label_scale),
        )
        if value is not None
    }
    names = loaded.agent.action_names
    method: Method
    if args.real_patches is not None:
        bank = Dataset.open(args.real_patches).arrays("obs")["obs"][: args.bank_size]
        settings = {"centres": args.centres} if args.centres is not None else {}
        method = RealPatchMethod(
            bank=bank,
            per_box=args.per_box,
            select_flips=not args.unselected,
            **settings,  # type: ignore[arg-type]
        )
        args.generator = f"real patches ({len(bank)} stacks, {args.per_box} per box" + (
            ", unselected)" if args.unselected else ")"
        )
    else:
        generator = None if args.generator == "none" else load_generator(args.generator)
        if args.peers:
            peers = tuple(load_agent(path).agent for path in args.peers)
            settings["prefer"] = "persistent"  # its peer check replaces the persistence check
            method = ConsensusMethod(generator=generator, peers=peers, **settings)  # type: ignore[arg-type]
            args.generator += f" + {len(peers)} peer(s)"
        else:
            method = StackInpaintingMethod(generator=generator, **settings)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    results = []
    by_target: dict[str, list[bool]] = {}
    for i, s in enumerate(states):
        wanted = _target(args.target, loaded, domain, s, rng)
        target = parse_target(wanted, loaded.agent.action_names)
        results.append(method.explain(s, loaded.agent, domain, target, seed=i))
        by_target.setdefault(wanted, []).append(results[-1].valid)
    made = [r.counterfactual_state for r in results if r.counterfactual_state is not None]
    realism = matched_realism(loaded.agent, domain, made, pool, seed=0)
    moved, context = [], []
    own = agent_actions(loaded.agent, domain, states)
    returned = [(s, r.counterfactual_state) for s, r in zip(states, results, strict=True)]
    returned = [(s, c) for s, c in returned if c is not None]
    for reference in args.transfer_agents:
        other = load_agent(reference).agent
        share = transfer(
            other,
            domain,
            states,
            [r.counterfactual_state for r in results],
            [r.valid for r in results],
        ).share_of_valid
        moved.append("n/a" if share is None else f"{share:.1%}")
        # what the share is read against: how often this agent acts as the explained one does,
        # and how often any returned edit (valid or not) moves it (the base rate unselected)
        theirs = agent_actions(other, domain, states)
        base = "n/a"
        if returned:
            before = agent_actions(other, domain, [s for s, _ in returned])
            after = agent_actions(other, domain, [c for _, c in returned])
            base = f"{np.mean(before != after):.1%}"
        context.append(
            f"{Path(reference).parent.name or reference}: agrees with the explained agent on "
            f"{np.mean(theirs == own):.1%} of the states; moved by {base} of the "
            f"{len(returned)} returned edits, valid or not"
        )
    print(
        f"| {args.generator} | {json.dumps(settings)} | {args.target} | "
        f"{statistics.mean(r.valid for r in results):.1%} | "
        f"{statistics.median(r.seconds for r in results):.2f} | "
        f"{statistics.median(r.generator_calls for r in results):.0f} | "
        f"{realism.cell('cnn')} | {realism.cell('probe')} | {' / '.join(moved) or 'n/a'} |"
    )
    for line in context:
        print("  transfer agent", line)
    if args.target != "any":  # which targets flip: the agent's own play never asks for some
        taken = np.bincount(agent_actions(loaded.agent, domain, states), minlength=len(names))
        print("explained states' own actions:", dict(zip(names, taken.tolist(), strict=True)))
        for wanted, valid in sorted(by_target.items()):
            print(f"  target {wanted}: {sum(valid)}/{len(valid)} valid")


def _states(loaded: Any, args: argparse.Namespace) -> tuple[list[AtariState], list[AtariState]]:
    """The explained states (seed 0) and the held-out reference (seed 20,000,000); the stacks
    alone are cached (the methods compared here need no emulator moments)."""
    if args.cache is not None and args.cache.is_file():
        with np.load(args.cache) as data:
            return [AtariState(o) for o in data["states"]], [AtariState(o) for o in data["ref"]]
    states = sample_states(loaded, args.states, 0)
    reference = sample_states(loaded, args.reference, 20_000_000)
    if args.cache is not None:
        np.savez_compressed(
            args.cache,
            states=np.stack([s.obs for s in states]),
            ref=np.stack([s.obs for s in reference]),
        )
    return states, reference


def _attempts(rows: list[list[Any]]) -> tuple[tuple[Any, float], ...]:
    """JSON attempts: [side or [sides...], step] pairs."""
    return tuple(
        (side if isinstance(side, int) else tuple(side), float(step)) for side, step in rows
    )


def _target(
    spec: str, loaded: Any, domain: AtariDomain, state: Any, rng: np.random.Generator
) -> str:
    """``any``, or ``other``: one action drawn uniformly among those the agent does not take."""
    if spec != "other":
        return spec
    names = loaded.agent.action_names
    taken = int(agent_actions(loaded.agent, domain, [state])[0])
    return str(names[rng.choice([a for a in range(len(names)) if a != taken])])


if __name__ == "__main__":
    main()
