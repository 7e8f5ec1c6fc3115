"""Realism of counterfactual frame stacks: can a small classifier tell them from real ones?

GANterfactual-RL's and Olson et al.'s question, asked with a fixed, cheap judge: a two-layer CNN
(the Nature-DQN stem, halved) trained on half of the (original, counterfactual) pairs and tested
on the other half. Held-out accuracy 0.5 means indistinguishable; 1.0 means every counterfactual
gives itself away. Pairs are split together, so the judge never sees the real twin of a
counterfactual it is tested on.

This is the *unmatched* figure. For counterfactuals it measures selection as well as artefacts
(it flags ``nearest``'s outputs, real stacks, at 0.79 on Space Invaders), so the benchmark and
``rlwb explain`` report the matched two-sample test of ``counterfactual/stack_realism.py``
instead. It stays for the generator card, where samples drawn from noise are compared with real
stacks and no selection is involved.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rl_workbench.domains.atari import AtariState


def realism_accuracy(
    originals: list[AtariState],
    counterfactuals: list[AtariState],
    *,
    seed: int = 0,
    epochs: int = 30,
) -> float | None:
    """Held-out accuracy telling ``counterfactuals`` from ``originals`` (paired lists).

    Returns None with fewer than 10 pairs (too few to train and test on).
    """
    if len(originals) != len(counterfactuals):
        raise ValueError("originals and counterfactuals must be paired (same length)")
    n = len(originals)
    if n < 10:
        return None
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    train, test = order[: n // 2], order[n // 2 :]
    real = _tensor(originals)
    fake = _tensor(counterfactuals)

    def split(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([real[idx], fake[idx]])
        y = torch.cat([torch.zeros(len(idx)), torch.ones(len(idx))])
        return x, y

    x_train, y_train = split(train)
    x_test, y_test = split(test)
    torch.manual_seed(seed)
    judge = _judge(x_train.shape[1], x_train.shape[2])
    fit_binary_judge(judge, x_train, y_train, seed, epochs)
    with torch.no_grad():
        predicted = judge(x_test).squeeze(1) > 0
    return float((predicted == y_test.bool()).float().mean())


def _tensor(states: list[AtariState]) -> torch.Tensor:
    """[N, k, H, W] in [0, 1]."""
    return torch.from_numpy(np.stack([s.obs for s in states])).permute(0, 3, 1, 2).float() / 255


def _judge(channels: int, side: int) -> nn.Module:
    features = nn.Sequential(
        nn.Conv2d(channels, 16, 8, stride=4),
        nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2),
        nn.ReLU(),
        nn.Flatten(),
    )
    with torch.no_grad():
        width = features(torch.zeros(1, channels, side, side)).shape[1]
    return nn.Sequential(features, nn.Linear(width, 1))


def fit_binary_judge(
    judge: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, seed: int, epochs: int
) -> nn.Module:
    """Train ``judge`` (one logit per item) with Adam and binary cross-entropy, in seeded
    minibatches of 32: the one loop every realism classifier here shares."""
    optimizer = torch.optim.Adam(judge.parameters(), lr=1e-3)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(x_train), generator=order).split(32):
            loss = nn.functional.binary_cross_entropy_with_logits(
                judge(x_train[batch]).squeeze(1), y_train[batch]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return judge
