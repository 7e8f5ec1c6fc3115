"""Every Atari counterfactual method on the same (state, target) pairs of the Space Invaders agent.

Usage: python benchmarks/counterfactual_atari.py [--pairs 200] [--target any|other] [--seed 0]
                                                [--agent zoo:breakout-ppo] [--methods ...]
Prints a Markdown table for BENCHMARKS.md (and, with --json, every pair's figures).

States are met by the agent in fresh, seeded games (``sample_states``: one state per game,
after 0-199 of its own steps drawn uniformly, across lost lives; duplicates removed).
``--target any`` asks for any action other than the agent's; ``--target other`` draws, per pair,
one specific other action (the harder question Olson et al. and GANterfactual-RL asked), and a
second table splits validity by the action asked for. Metrics follow REFERENCES.md: validity over
all pairs (a pair whose method returns nothing counts as invalid), proximity and sparsity over the
counterfactuals made (median and mean), wall seconds and generator calls per counterfactual
(median). One torch thread, so timings are per core.

Realism, persistence, transfer (issue 12, section 1; ``counterfactual/stack_realism.py``):
``matched AUC`` tells each method's counterfactuals from held-out real stacks (``--reference``
states from other seeded games, none of them explained) on which the agent takes the
counterfactual's action, out of fold, with a bootstrap 95% interval: a pixel CNN and a linear
probe on the agent's own features. Two controls are printed under the table (a reference draw
vs a disjoint one; ``nearest``'s outputs vs the reference); both must cover 0.5, or the test
measures selection. The old figure (a classifier telling each counterfactual from its own
original) is gone: it flagged ``nearest``'s real stacks at 0.79, so it measured selection.
``persistence``: the share of valid counterfactuals whose flip survives a light noise-and-denoise
by the game's whole-stack generator (``--stack-model``; ``--persistence-strength``, DDIM, unguided,
decoded legal).
``transfer``: per ``--transfer-agents`` agent, the share of valid counterfactuals that change its
action too (n/a without them).

Legality (issue 12, ``AtariDomain.legality_violations``): the share of counterfactuals that break
a rule (padding frames black, the game's grey levels, static pixels static) and the number of
violating values in all; ``distinct`` counts the different states returned. Two ablations of
``diffusion`` (issue 12, section 2), see below.

Rows (issue 12, sections 2-3): ``diffusion`` edits with the game's shipped generator, an
inpainter for Space Invaders (``counterfactual/stack_inpainting.py``: salient boxes redrawn by the
model); its two ablations are ``diffusion-untrained`` (the same UNet shape, fresh init) and
``box-gradient`` (the same boxes and guided steps with no model). ``masked-diffusion`` is the
method issue 12 found wanting (saliency-masked pixel edits denoised by the whole-stack UNet,
``--stack-model``), ``masked-gradient`` its no-model ablation; ``masked-diffusion-untrained`` and
``latent-untrained`` are the whole-stack model's methods with a fresh init of the same UNet or
autoencoder (``latent``'s no-model counterpart is ``pixel``, the edit made on pixels).

``objects`` (issue 12, section 4): the fewest edits of game objects through the emulator's RAM,
drawn by the game itself (``counterfactual/objects.py``); its last column is the median number of
object edits. For a game without a generator, the rows that need one are skipped and
persistence reads n/a (both shipped games have both models: Breakout's whole-stack generator,
``zoo:breakout-generator``, was added for its latent and masked rows and its persistence column).
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
from rl_workbench.counterfactual.stack_diffusion import MaskedGradientMethod
from rl_workbench.counterfactual.stack_inpainting import StackInpaintingMethod
from rl_workbench.counterfactual.stack_realism import (
    MIN_ITEMS,
    ReferencePool,
    Transfer,
    matched_realism,
    persistence,
    realism_controls,
    transfer,
)
from rl_workbench.counterfactual.targets import Target
from rl_workbench.domains.atari import AtariDomain, proximity, sparsity

METHODS = (
    "diffusion",
    "diffusion-untrained",
    "box-gradient",
    "masked-diffusion",
    "masked-diffusion-untrained",
    "masked-gradient",
    "latent",
    "latent-untrained",
    "objects",
    "nearest",
    "pixel",
)
NEEDS_GENERATOR = ("diffusion", "diffusion-untrained")
NEEDS_STACK_MODEL = ("masked-diffusion", "masked-diffusion-untrained", "latent", "latent-untrained")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--target", choices=["any", "other"], default="any")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--agent", default="zoo:spaceinvaders-ppo")
    parser.add_argument(
        "--generator", default=None, help="[default: the game's shipped generator, if any]"
    )
    parser.add_argument(
        "--stack-model",
        default=None,
        help="whole-stack generator (+ vae/) for masked-diffusion, latent and the persistence "
        "check [default: the game's shipped one, if any]",
    )
    parser.add_argument("--pool", type=int, default=2000, help="real states for nearest")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--json", type=Path, default=None, help="write every pair's figures")
    parser.add_argument(
        "--reference", type=int, default=2000, help="real states for the matched realism test"
    )
    parser.add_argument(
        "--persistence-strength", type=float, default=0.1, help="noise level of the purification"
    )
    parser.add_argument(
        "--transfer-agents",
        nargs="+",
        default=[],
        metavar="PATH",
        help="independently trained agents of the same game: report transfer to each",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    loaded = load_agent(args.agent)
    domain = AtariDomain(loaded.env_id)  # the game's grey levels: legal decoding
    args.generator = args.generator or domain.default_generator
    args.stack_model = args.stack_model or domain.default_autoencoder
    for missing, rows in ((args.generator, NEEDS_GENERATOR), (args.stack_model, NEEDS_STACK_MODEL)):
        if missing is None:  # a game without that model: the rows that need none
            dropped = [m for m in args.methods if m in rows]
            args.methods = [m for m in args.methods if m not in rows]
            if dropped:
                print(f"No model for {loaded.env_id}: skipping {', '.join(dropped)}.")
    states = sample_states(loaded, args.pairs, args.seed)
    targets = _targets(loaded, states, args.target, args.seed)
    pool = (
        sample_states(loaded, args.pool, args.seed + 10_000_000)
        if "nearest" in args.methods
        else None
    )
    # The matched realism test's reference: held-out real stacks, disjoint from the explained
    # states, with the agent's action on each (issue 12, section 1).
    reference = ReferencePool.build(
        loaded.agent,
        domain,
        sample_states(loaded, args.reference, args.seed + 20_000_000),
        exclude=states,
    )
    purifier = (
        None
        if args.stack_model is None
        else load_method_model("diffusion", loaded, args.stack_model, args.agent)
    )
    others = [load_agent(path, loaded.env_id) for path in args.transfer_agents]
    nearest_outputs = None
    rows, records, figures = [], {}, {}
    by_target: dict[str, dict[str, list[bool]]] = {}
    for name in args.methods:
        method = _method(name, loaded, args, pool)
        results = [
            method.explain(state, loaded.agent, domain, target, seed=i)
            for i, (state, target) in enumerate(
                tqdm(list(zip(states, targets, strict=True)), desc=name)
            )
        ]
        for r in results:
            by_target.setdefault(name, {}).setdefault(r.target, []).append(r.valid)
        made = [r for r in results if r.counterfactual_state is not None]
        prox = [proximity(r.original_state, r.counterfactual_state) for r in made]
        spar = [sparsity(r.original_state, r.counterfactual_state) for r in made]
        realism = matched_realism(
            loaded.agent, domain, [r.counterfactual_state for r in made], reference, seed=0
        )
        flipped = [r for r in made if r.valid]
        kept = (
            None
            if purifier is None
            else persistence(
                purifier,  # type: ignore[arg-type]
                loaded.agent,
                domain,
                [r.original_state for r in flipped],
                [r.counterfactual_state for r in flipped],
                strength=args.persistence_strength,
                seed=0,
            )
        )
        moved = [
            transfer(
                other.agent,
                domain,
                [r.original_state for r in results],
                [r.counterfactual_state for r in results],
                [r.valid for r in results],
            )
            for other in others
        ]
        if name == "nearest":
            nearest_outputs = [r.counterfactual_state for r in made]
        legality = [
            domain.legality_violations(r.original_state, r.counterfactual_state) for r in made
        ]
        violating = np.mean([v["total"] > 0 for v in legality]) if legality else float("nan")
        distinct = len({r.counterfactual_state for r in made})
        named = [len(r.edits_in_words) for r in made if r.edits_in_words]
        rows.append(
            f"| {name} | {np.mean([r.valid for r in results]):.1%} | "
            f"{_stat(prox, statistics.median, 4)} / {_stat(prox, statistics.mean, 4)} | "
            f"{_stat(spar, statistics.median, 4)} / {_stat(spar, statistics.mean, 4)} | "
            f"{realism.cell('cnn')} | {realism.cell('probe')} | "
            f"{_share(None if kept is None else kept.share)} | {_transfer_cell(moved)} | "
            f"{_stat([r.seconds for r in results], statistics.median, 3)} | "
            f"{_stat([r.generator_calls for r in results], statistics.median, 0)} | "
            f"{violating:.1%} / {sum(v['total'] for v in legality)} | {distinct} / {len(made)} | "
            f"{_stat(named, statistics.median, 1)} |"
        )
        figures[name] = {
            "matched_realism": realism.to_dict(),
            "persistence": None
            if kept is None
            else {"share": kept.share, "n": len(kept.kept), "strength": kept.strength},
            "transfer": {
                path: {"share_of_valid": m.share_of_valid, "n_valid": m.n_valid}
                for path, m in zip(args.transfer_agents, moved, strict=True)
            },
        }
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
                "edits_in_words": list(r.edits_in_words),
                "legality": None
                if r.counterfactual_state is None
                else domain.legality_violations(r.original_state, r.counterfactual_state),
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
        "matched AUC, CNN [95% CI] | matched AUC, probe [95% CI] | persistence | transfer | "
        "median s | median generator calls | "
        "violating / values | distinct / made | median object edits |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.target != "any":
        _print_by_target(by_target, loaded.agent.action_names)
    controls = _controls(loaded, domain, states, targets, pool, nearest_outputs, reference, args)
    print()
    print(
        f"Matched realism (issue 12): each method's counterfactuals against {reference.summary}; "
        "out-of-fold ROC AUC (5 folds) with a bootstrap 95% interval over items, 0.5: "
        "indistinguishable. Controls, which must cover 0.5:"
    )
    print()
    print("| control | CNN [95% CI] | probe [95% CI] | matched / unmatched |")
    print("|---|---|---|---|")
    for label, control in (
        ("reference vs disjoint reference", controls.reference),
        ("nearest vs reference", controls.nearest),
    ):
        print(
            f"| {label} | {control.cell('cnn')} | {control.cell('probe')} | "
            f"{control.n_matched} / {control.n_unmatched} |"
        )
    print()
    failures = controls.failures()
    print(
        "Both controls cover 0.5: the matched test can be trusted."
        if controls.computed and not failures
        else "; ".join(failures) + "."
        if failures
        else f"Too few items for a control (fewer than {MIN_ITEMS} matched)."
    )
    if not others:
        print("Transfer: n/a, no --transfer-agents given (independently trained agents needed).")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"json": str(args.json)},
                    "figures": figures,
                    "controls": controls.to_dict(),
                    "pairs": records,
                },
                indent=1,
            )
        )


def _method(name: str, loaded, args, pool):
    """The method a row names; the ablations are built here."""
    if name == "masked-gradient":
        return MaskedGradientMethod()
    if name == "box-gradient":
        return StackInpaintingMethod(generator=None)
    untrained = name.endswith("-untrained")
    base = name.removesuffix("-untrained")
    if base in ("masked-diffusion", "latent"):  # the whole-stack model's methods
        kind = "latent" if base == "latent" else "diffusion"
        model = load_method_model(kind, loaded, args.stack_model, args.agent)
        return make_method(kind, generator=_fresh(model) if untrained else model)
    if base == "diffusion":
        model = load_method_model("diffusion", loaded, args.generator, args.agent)
        return make_method("diffusion", generator=_fresh(model) if untrained else model)
    model = load_method_model(name, loaded, args.generator, args.agent)
    return make_method(name, generator=model, pool=pool)


def _fresh(model):
    """The ablation: the same network configuration with a fresh init (torch seed 0)."""
    torch.manual_seed(0)
    if hasattr(model, "vae"):  # an autoencoder (latent)
        return type(model)(type(model.vae).from_config(model.vae.config), model.spec)
    return type(model)(type(model.unet).from_config(model.unet.config), model.scheduler, model.spec)


def _controls(loaded, domain, states, targets, pool, nearest_outputs, reference, args):
    """Both controls of the matched test; ``nearest`` is run for them when it was not a row."""
    if nearest_outputs is None:
        if pool is None:
            pool = sample_states(loaded, args.pool, args.seed + 10_000_000)
        method = make_method("nearest", pool=pool)
        nearest_outputs = [
            r.counterfactual_state
            for r in (
                method.explain(state, loaded.agent, domain, target, seed=i)
                for i, (state, target) in enumerate(zip(states, targets, strict=True))
            )
            if r.counterfactual_state is not None
        ]
    return realism_controls(loaded.agent, domain, nearest_outputs, reference, seed=0)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _transfer_cell(moved: list[Transfer]) -> str:
    """Share of valid counterfactuals moving each other agent, in --transfer-agents order."""
    return "n/a" if not moved else " / ".join(_share(m.share_of_valid) for m in moved)


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


def _print_by_target(by_target: dict[str, dict[str, list[bool]]], names) -> None:
    """Validity per asked action: an agent that never takes some actions in its own play cannot
    be asked for them with the same success, so the overall share hides where flips come from."""
    asked = [n for n in names if any(n in per for per in by_target.values())]
    print()
    print("Validity by the action asked for (valid / pairs):")
    print()
    print("| method | " + " | ".join(asked) + " |")
    print("|---|" + "---|" * len(asked))
    for method, per in by_target.items():
        cells = [f"{sum(per[n])}/{len(per[n])}" if n in per else "-" for n in asked]
        print(f"| {method} | " + " | ".join(cells) + " |")


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
