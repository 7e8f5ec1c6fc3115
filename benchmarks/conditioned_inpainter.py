"""Does an inpainter conditioned on the agent's action draw flips without a push? (issue 12, s. 3)

Usage: python benchmarks/conditioned_inpainter.py --data runs/data/si --out runs/gens/si-cond
           [--windows random|salient] [--steps 1500] [--lr 3e-4]
       python benchmarks/conditioned_inpainter.py --probe runs/gens/si-cond --data runs/data/si

The data: ``rlwb collect --agent zoo:spaceinvaders-ppo --n-states 30000 --seed 0 --out
runs/data/si`` (the inpainter recipe's states). Each distinct stack is labelled with the agent's
greedy action on it (the argmax of its recorded distribution). The shipped inpainter
(``zoo:spaceinvaders-inpainter``) is fine-tuned into a conditioned one: the same weights plus
diffusers' class embedding, initialised to zero so that training starts from the shipped model,
with a 20% share of windows shown with the "no label" class (``AtariInpainter.training_loss``).
``--windows random`` trains on the recipe's windows (around lit pixels); ``--windows salient``
centres three quarters of the batches' windows and boxes on each stack's most salient place for
the agent (|d log p(action) / d pixel|, smoothed), where the agent's decision depends.

``--probe`` measures how much the label moves the model's noise estimate inside the box, relative
to the estimate itself (256 training windows, three noise levels): a model that learnt what goes
with each action moves it by a visible share. The flips themselves are measured by
``benchmarks/inpainting_attempts.py --generator OUT --label-scale S``. One torch thread.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.data.dataset import Dataset
from rl_workbench.generative import atari_inpainter as ai
from rl_workbench.generative.atari_inpainter import AtariInpainter, AtariInpainterSpec
from rl_workbench.generative.zoo import load_generator

SALIENT_SHARE = 0.75
"""Share of ``--windows salient`` batches centred on the agent's most salient place."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--windows", choices=("random", "salient"), default="random")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--probe", type=Path, help="a conditioned inpainter to measure instead")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.probe is not None:
        probe(load_generator(args.probe), Dataset.open(args.data))
    elif args.out is None:
        parser.error("give --out (to fit) or --probe (to measure)")
    else:
        fit(Dataset.open(args.data), args.out, args.windows, args.steps, args.lr)


def fit(dataset: Dataset, out: Path, windows: str, steps: int, lr: float) -> None:
    base = load_generator("zoo:spaceinvaders-inpainter")
    assert isinstance(base, AtariInpainter)
    probs = dataset.arrays("probs")["probs"]
    pairs = list(dict.fromkeys(zip(dataset.states(), probs.argmax(1).tolist(), strict=True)))
    print(f"{len(pairs)} distinct stacks; greedy actions {np.bincount([a for _, a in pairs])}")
    peaks = _salient_places(pairs) if windows == "salient" else None
    spec = AtariInpainterSpec(env_id=base.spec.env_id, patch=base.spec.patch, actions=len(probs[0]))
    gen = AtariInpainter.create(spec, tuple(base.unet.config.block_out_channels))
    gen.unet.load_state_dict(base.unet.state_dict(), strict=False)  # all but the new embedding
    torch.nn.init.zeros_(gen.unet.class_embedding.weight)  # starts as the shipped model
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    unet = gen.unet.train()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=lr)
    losses: list[float] = []
    started = time.perf_counter()
    for step in range(steps):
        idx = rng.integers(0, len(pairs), 64)
        if peaks is None:
            batch = [pairs[int(i)] for i in idx]
            loss = gen.training_loss([s for s, _ in batch], rng, [a for _, a in batch])
        else:
            loss = _salient_loss(
                gen, [pairs[int(i)] for i in idx], [peaks[int(i)] for i in idx], rng
            )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if (step + 1) % 100 == 0:
            print(
                f"step {step + 1}: loss {np.mean(losses[-100:]):.4f}, "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            unet.eval()
            gen.save_pretrained(out)
            unet.train()
    unet.eval()
    gen.save_pretrained(out)


def _salient_places(pairs: list[tuple[Any, int]]) -> list[tuple[int, int]]:
    """Each stack's most salient pixel for the agent's own action (smoothed |gradient|)."""
    agent = load_agent("zoo:spaceinvaders-ppo").agent
    peaks: list[tuple[int, int]] = []
    for i in range(0, len(pairs), 128):
        chunk = pairs[i : i + 128]
        obs = torch.from_numpy(np.stack([s.obs for s, _ in chunk]).astype(np.float32))
        obs.requires_grad_(True)
        logp = torch.log_softmax(agent.action_logits(obs), -1)
        taken = torch.tensor([a for _, a in chunk])
        (grad,) = torch.autograd.grad(logp.gather(1, taken[:, None]).sum(), obs)
        smooth = F.avg_pool2d(grad.abs().sum(-1)[:, None], 5, 1, 2)[:, 0]
        side = smooth.shape[-1]
        peaks += [divmod(int(f), side) for f in smooth.flatten(1).argmax(1)]
    return peaks


def _salient_loss(
    gen: AtariInpainter,
    batch: list[tuple[Any, int]],
    peaks: list[tuple[int, int]],
    rng: np.random.Generator,
) -> torch.Tensor:
    """The conditioned noise-prediction loss, windows and boxes around the salient places."""
    patch, size = gen.spec.patch, gen.spec.size
    if rng.random() < SALIENT_SHARE:
        windows, masks = [], []
        for (state, _), (cy, cx) in zip(batch, peaks, strict=True):
            top = int(np.clip(cy - patch // 2 + rng.integers(-6, 7), 0, size - patch))
            left = int(np.clip(cx - patch // 2 + rng.integers(-6, 7), 0, size - patch))
            side = int(rng.integers(6, 15))
            by = int(np.clip(cy - top - side // 2 + rng.integers(-2, 3), 0, patch - side))
            bx = int(np.clip(cx - left - side // 2 + rng.integers(-2, 3), 0, patch - side))
            mask = np.zeros((patch, patch), np.float32)
            mask[by : by + side, bx : bx + side] = 1
            windows.append(state.obs[top : top + patch, left : left + patch])
            masks.append(mask)
        w, m = np.stack(windows), np.stack(masks)
    else:
        w, m = ai.training_windows([s for s, _ in batch], patch, rng)
    labels = gen.training_labels([a for _, a in batch], rng)
    return gen.window_loss(w, m, rng, labels)


def probe(gen: Any, dataset: Dataset) -> None:
    """|eps(label) - eps(no label)| / |eps(no label)| inside the boxes, per label and level."""
    assert isinstance(gen, AtariInpainter) and gen.conditioned
    states = dataset.states()[:3000]
    rng = np.random.default_rng(1)
    torch.manual_seed(1)
    w, m = ai.training_windows(
        [states[int(i)] for i in rng.integers(0, len(states), 256)], gen.spec.patch, rng
    )
    x0, mask = ai.to_unit(w), torch.from_numpy(m)[:, None]
    noise = torch.randn_like(x0)
    taken = sorted(set(dataset.arrays("probs")["probs"].argmax(1).tolist()))
    for level in (900, 500, 200):
        t = torch.full((len(x0),), level)
        x_t = gen.scheduler.add_noise(x0, noise, t)
        with torch.no_grad():
            none = gen.predict_noise(x_t, x0, mask, t)
            scale = (none * mask).abs().sum() / mask.sum()
            moved = {
                a: float(
                    ((gen.predict_noise(x_t, x0, mask, t, torch.full((len(x0),), a)) - none) * mask)
                    .abs()
                    .sum()
                    / mask.sum()
                    / scale
                )
                for a in taken
            }
        print(f"t={level}: " + ", ".join(f"action {a} moves it {v:.2%}" for a, v in moved.items()))


if __name__ == "__main__":
    main()
