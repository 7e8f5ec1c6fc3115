"""Realism of frame-stack counterfactuals that selection cannot fool, and two checks against
adversarial edits (persistence, transfer). The Atari family's judge (REFERENCES.md, "Realism that
selection cannot fool").

A classifier telling each original from its own counterfactual measures selection as well as
artefacts: ``nearest``'s outputs are real stacks, yet it flags them (0.79 on Space Invaders),
because "states where the agent does A" differ from "nearby states where it does B" in content.
So the judge here compares counterfactuals with a *matched real reference*:

1. **Match.** For every counterfactual on which the agent takes action ``a`` with probability
   ``p``, draw a held-out real stack (from a pool disjoint from the explained states) on which the
   agent also takes ``a``, with the probability closest to ``p``, without replacement.
   Counterfactuals whose action has no reference left are dropped (counted).
2. **Score out of fold.** A judge is fitted on ``folds - 1`` folds (stratified) and scores the
   held-out fold: (a) a small CNN on the pixels (local detectors pooled over the whole stack),
   (b) a linear probe (L2 logistic regression) on the agent's own features
   (:meth:`Agent.features`, standardised on the training folds).
3. **AUC with an interval.** ROC AUC of the out-of-fold scores (counterfactual = positive), with a
   percentile bootstrap 95% interval over items (resampled within each class). 0.5 means
   indistinguishable; 1.0 means every counterfactual gives itself away.
4. **Controls.** The same test on a reference draw against a disjoint reference draw, and on
   ``nearest``'s outputs (real stacks selected like counterfactuals) against the reference. Both
   must cover 0.5; when one does not, the test measures selection and is not to be trusted.

Persistence (DP-DQN's purification): noise a counterfactual lightly, denoise it with the
generator (DDIM, unguided), decode it to a legal stack and ask whether the agent still acts
differently from the original. Transfer (Hvilshøj et al.'s oracle score): does a valid
counterfactual also change the action of independently trained agents?
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rl_workbench.agents import Agent
from rl_workbench.domains.atari import AtariState
from rl_workbench.domains.base import Domain
from rl_workbench.domains.realism import fit_binary_judge
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import AtariGenerator

logger = logging.getLogger(__name__)

Judge = Literal["cnn", "probe"]
"""``cnn``: a small CNN on the pixels; ``probe``: logistic regression on the agent's features."""

JUDGES: tuple[Judge, ...] = ("cnn", "probe")

MIN_ITEMS = 20
"""Fewest matched counterfactuals the two-sample test runs on (fewer: too few to report)."""


# -- AUC and its bootstrap interval ------------------------------------------------------------


@dataclass(frozen=True)
class AUCEstimate:
    """ROC AUC of out-of-fold judge scores with a bootstrap 95% interval.

    Attributes:
        auc: the point estimate (0.5: indistinguishable, 1.0: perfectly told apart).
        low: the interval's 2.5th percentile.
        high: the interval's 97.5th percentile.
        n_negative: reference items (label 0).
        n_positive: candidate items (label 1).
    """

    auc: float
    low: float
    high: float
    n_negative: int
    n_positive: int

    def covers(self, value: float = 0.5) -> bool:
        """Whether the interval contains ``value`` (chance, by default)."""
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.auc:.2f} [{self.low:.2f}, {self.high:.2f}]"

    def to_dict(self) -> dict[str, float | int]:
        return {
            "auc": self.auc,
            "low": self.low,
            "high": self.high,
            "n_negative": self.n_negative,
            "n_positive": self.n_positive,
        }


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC = P(score of a positive > score of a negative), ties counting one half.

    Args:
        labels: [N] 0/1.
        scores: [N] any real numbers (higher: more likely positive).

    Raises:
        ValueError: one of the classes is empty.
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=float)
    pos, neg = scores[labels], np.sort(scores[~labels])
    if pos.size == 0 or neg.size == 0:
        raise ValueError(f"need both classes, got {pos.size} positive and {neg.size} negative")
    below = np.searchsorted(neg, pos, side="left")
    at_or_below = np.searchsorted(neg, pos, side="right")
    return float((below.sum() + 0.5 * (at_or_below - below).sum()) / (pos.size * neg.size))


def bootstrap_auc(
    labels: np.ndarray, scores: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> AUCEstimate:
    """:func:`roc_auc` with a percentile bootstrap 95% interval over items.

    Items are resampled with replacement within each class, so every resample has both classes
    and the class sizes of the data.
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=float)
    pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
    auc = roc_auc(labels, scores)
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate(
            [rng.choice(pos, pos.size, replace=True), rng.choice(neg, neg.size, replace=True)]
        )
        boots[b] = roc_auc(labels[idx], scores[idx])
    low, high = np.percentile(boots, [2.5, 97.5])
    return AUCEstimate(auc, float(low), float(high), int(neg.size), int(pos.size))


# -- the two judges, scored out of fold ----------------------------------------------------------


def _pixels(states: Sequence[AtariState]) -> torch.Tensor:
    """[N, k, H, W] in [0, 1]."""
    return torch.from_numpy(np.stack([s.obs for s in states])).permute(0, 3, 1, 2).float() / 255


class _PixelJudge(nn.Module):
    """Local detectors pooled over the whole stack: a 4x4 (stride 2) convolution over all frames
    at once, then max and mean over positions, then one logit.

    An artefact has no fixed place and is small (speckles, an impossible grey level, a pixel
    that changes between frames as no sprite does), so a detector that may fire anywhere and is
    pooled by its maximum finds it from few examples. The Nature-DQN stem (8x8 stride 4, then a
    linear layer over positions) memorised where the sprites were instead: on 64 training stacks
    it told 4 speckles of 2x2 pixels from clean stacks at AUC 0.5-0.6 out of fold, where this
    judge scores 1.0 (tests/unit/test_stack_realism.py).
    """

    def __init__(self, channels: int, detectors: int = 32) -> None:
        super().__init__()
        self.local = nn.Sequential(nn.Conv2d(channels, detectors, 4, stride=2), nn.ReLU())
        self.head = nn.Linear(2 * detectors, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [B, 1] for stacks [B, k, H, W] in [0, 1]."""
        h = self.local(x).flatten(2)
        return self.head(torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1))


def _fit_cnn(
    x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, seed: int, epochs: int
) -> np.ndarray:
    """Out-of-fold logits of a CNN fitted on the training fold."""
    torch.manual_seed(seed)  # the judge's initial weights; training order below is seeded too
    judge = fit_binary_judge(_PixelJudge(x_train.shape[1]), x_train, y_train, seed, epochs)
    with torch.no_grad():
        return judge(x_test).squeeze(1).numpy()


def _fit_probe(
    x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, seed: int, epochs: int
) -> np.ndarray:
    """Out-of-fold logits of an L2 logistic regression on standardised features."""
    mean, std = x_train.mean(0), x_train.std(0).clamp_min(1e-6)
    a, b = (x_train - mean) / std, (x_test - mean) / std
    torch.manual_seed(seed)
    probe = nn.Linear(a.shape[1], 1)
    optimizer = torch.optim.LBFGS(probe.parameters(), lr=0.5, max_iter=20 * max(1, epochs))

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(probe(a).squeeze(1), y_train)
        loss = loss + 1e-2 * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)  # type: ignore[arg-type]
    with torch.no_grad():
        return probe(b).squeeze(1).numpy()


def out_of_fold_scores(
    x: torch.Tensor,
    labels: np.ndarray,
    fit: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, int, int], np.ndarray],
    *,
    folds: int = 5,
    epochs: int = 15,
    seed: int = 0,
) -> np.ndarray:
    """Every item's score from a judge that never saw it (stratified ``folds``-fold).

    Args:
        x: [N, ...] inputs.
        labels: [N] 0/1.
        fit: fits on (inputs, float labels) and scores held-out inputs.
    """
    labels = np.asarray(labels).astype(int)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=int)
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        fold_of[idx] = np.arange(idx.size) % folds
    scores = np.empty(len(labels))
    y = torch.from_numpy(labels.astype(np.float32))
    for k in range(folds):
        test = np.flatnonzero(fold_of == k)
        train = np.flatnonzero(fold_of != k)
        if test.size == 0:
            continue
        scores[test] = fit(x[train], y[train], x[test], seed + k, epochs)
    return scores


def two_sample_auc(
    reference: Sequence[AtariState],
    candidates: Sequence[AtariState],
    *,
    judge: Judge = "cnn",
    agent: Agent | None = None,
    folds: int = 5,
    epochs: int = 15,
    seed: int = 0,
    n_boot: int = 1000,
) -> AUCEstimate:
    """How well a judge tells ``candidates`` from real ``reference`` stacks, out of fold.

    Args:
        reference: real stacks (label 0); repeats are judged once.
        candidates: the stacks under test (label 1): counterfactuals, or a control; repeats are
            judged once.
        judge: ``cnn`` on pixels or ``probe`` on ``agent.features``.
        agent: required for ``probe``.
        folds: cross-validation folds (each item is scored by a judge that did not see it).
        epochs: CNN epochs; the probe runs ``20 * epochs`` L-BFGS iterations at most.
        seed: fixes folds, initial weights, batch order and the bootstrap.

    Raises:
        InvalidArgumentError: fewer than ``folds`` items in a class, or ``probe`` without agent.
    """
    # A stack repeated on one side (``nearest`` returns one real stack for several originals)
    # would sit in training and test folds at once and be recognised, not judged: judge each
    # distinct stack once.
    reference, candidates = list(dict.fromkeys(reference)), list(dict.fromkeys(candidates))
    if min(len(reference), len(candidates)) < folds:
        raise InvalidArgumentError(
            f"The two-sample test needs at least {folds} stacks per side, got "
            f"{len(reference)} reference and {len(candidates)} candidates."
        )
    states = [*reference, *candidates]
    labels = np.array([0] * len(reference) + [1] * len(candidates))
    if judge == "cnn":
        x, fit = _pixels(states), _fit_cnn
    elif judge == "probe":
        if agent is None:
            raise InvalidArgumentError("The probe judge reads the agent's features: pass agent.")
        with torch.no_grad():
            x = torch.cat(
                [
                    agent.features(
                        torch.from_numpy(np.stack([s.obs for s in chunk]).astype(np.float32))
                    ).flatten(1)
                    for chunk in _chunks(states, 256)
                ]
            )
        fit = _fit_probe
    else:
        raise InvalidArgumentError(f"Unknown judge {judge!r}; use one of {', '.join(JUDGES)}.")
    scores = out_of_fold_scores(x, labels, fit, folds=folds, epochs=epochs, seed=seed)
    return bootstrap_auc(labels, scores, n_boot=n_boot, seed=seed)


# -- the matched reference -----------------------------------------------------------------------


def agent_decisions(
    agent: Agent, domain: Domain, states: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The agent's argmax action [N] on each state (as judged everywhere else) and its
    probability [N] (the agent's confidence)."""
    actions, confidences = [], []
    with torch.no_grad():
        for chunk in _chunks(list(states), 256):
            probs = agent.action_probs(torch.stack([domain.encode(s) for s in chunk]))
            top = probs.max(-1)
            actions.append(top.indices.numpy())
            confidences.append(top.values.numpy())
    if not actions:
        return np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(actions), np.concatenate(confidences)


def agent_actions(agent: Agent, domain: Domain, states: Sequence[Any]) -> np.ndarray:
    """The agent's argmax action [N] on each state, as judged everywhere else."""
    return agent_decisions(agent, domain, states)[0]


def match_reference(
    actions: Sequence[int],
    pool_actions: np.ndarray,
    rng: np.random.Generator,
    available: np.ndarray | None = None,
    confidences: Sequence[float] | None = None,
    pool_confidences: np.ndarray | None = None,
) -> tuple[list[int], list[int]]:
    """Draw, without replacement, one pool index per item with the same action (and, given
    confidences, the free one whose confidence is closest; items in random order).

    Matching the confidence too matters: a counterfactual for "any other action" sits by
    construction near the agent's decision boundary, and the agent's own features tell such
    states from typical ones even when both are real (``nearest``'s outputs against an
    action-only reference: probe AUC 0.75 on Space Invaders, BENCHMARKS.md).

    Args:
        actions: the action of each item to match.
        pool_actions: [M] the agent's action on each pool state.
        rng: draws the reference.
        available: [M] bool, pool states that may be drawn (all by default).
        confidences: each item's probability of its action (None: match on action only).
        pool_confidences: [M] the same for the pool (needed with ``confidences``).

    Returns:
        (indices of the matched items, the pool index drawn for each, in the same order).
    """
    free = np.ones(len(pool_actions), bool) if available is None else available.copy()
    items, drawn = [], []
    for i in rng.permutation(len(actions)):
        candidates = np.flatnonzero(free & (pool_actions == actions[i]))
        if candidates.size == 0:
            continue
        if confidences is not None and pool_confidences is not None:
            gap = np.abs(pool_confidences[candidates] - confidences[i])
            candidates = candidates[gap == gap.min()]
        j = int(rng.choice(candidates))
        free[j] = False
        items.append(int(i))
        drawn.append(j)
    order = np.argsort(items)
    return [items[k] for k in order], [drawn[k] for k in order]


@dataclass(frozen=True)
class MatchedRealism:
    """One matched two-sample test: candidates against real stacks with the same actions.

    Attributes:
        cnn: AUC of the pixel CNN (None: too few matched items).
        probe: AUC of the linear probe on the agent's features (None: too few).
        n_matched: candidates that found a reference stack with their action.
        n_unmatched: candidates dropped because the pool had no stack with their action left.
    """

    cnn: AUCEstimate | None
    probe: AUCEstimate | None
    n_matched: int
    n_unmatched: int

    def covers_chance(self) -> bool:
        """Whether every interval computed contains 0.5."""
        return all(e.covers(0.5) for e in (self.cnn, self.probe) if e is not None)

    def cell(self, judge: Judge) -> str:
        estimate = self.cnn if judge == "cnn" else self.probe
        return "n/a" if estimate is None else str(estimate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cnn": None if self.cnn is None else self.cnn.to_dict(),
            "probe": None if self.probe is None else self.probe.to_dict(),
            "n_matched": self.n_matched,
            "n_unmatched": self.n_unmatched,
        }


def _judge_both(
    reference: list[AtariState],
    candidates: list[AtariState],
    agent: Agent,
    n_unmatched: int,
    *,
    seed: int,
    folds: int,
    epochs: int,
) -> MatchedRealism:
    if min(len(reference), len(candidates)) < MIN_ITEMS:
        return MatchedRealism(None, None, len(candidates), n_unmatched)
    estimates = {
        judge: two_sample_auc(
            reference, candidates, judge=judge, agent=agent, folds=folds, epochs=epochs, seed=seed
        )
        for judge in JUDGES
    }
    return MatchedRealism(estimates["cnn"], estimates["probe"], len(candidates), n_unmatched)


@dataclass
class ReferencePool:
    """Held-out real stacks and the agent's action on each: what counterfactuals are matched to.

    Build it with :meth:`build`, which removes duplicates and every stack equal to an explained
    state (the reference must be disjoint from what was explained).

    Attributes:
        states: the real stacks.
        actions: [M] the agent's argmax action on each.
    """

    states: list[AtariState]
    actions: np.ndarray
    confidences: np.ndarray

    @classmethod
    def build(
        cls,
        agent: Agent,
        domain: Domain,
        states: Sequence[AtariState],
        exclude: Sequence[AtariState] = (),
    ) -> ReferencePool:
        banned = set(exclude)
        unique = [s for s in dict.fromkeys(states) if s not in banned]
        return cls(unique, *agent_decisions(agent, domain, unique))

    @property
    def summary(self) -> str:
        """One phrase for reports: how many stacks, and that they are matched on action."""
        return (
            f"{len(self.states)} held-out real stacks (distinct, none of them explained), "
            "matched on the agent's action and its confidence"
        )

    def draw(
        self,
        actions: Sequence[int],
        rng: np.random.Generator,
        available: np.ndarray | None = None,
        confidences: Sequence[float] | None = None,
    ) -> tuple[list[int], list[int]]:
        """See :func:`match_reference`."""
        return match_reference(actions, self.actions, rng, available, confidences, self.confidences)


def matched_realism(
    agent: Agent,
    domain: Domain,
    candidates: Sequence[AtariState],
    pool: ReferencePool,
    *,
    seed: int = 0,
    folds: int = 5,
    epochs: int = 15,
) -> MatchedRealism:
    """The matched two-sample test of ``candidates`` (e.g. counterfactuals) against ``pool``.

    Each candidate is matched to a pool stack on which the agent takes the candidate's own action
    (so what the agent does cannot give a counterfactual away), then both judges run.
    """
    actions, confidences = agent_decisions(agent, domain, candidates)
    items, drawn = pool.draw(
        list(actions), np.random.default_rng(seed), confidences=list(confidences)
    )
    return _judge_both(
        [pool.states[j] for j in drawn],
        [candidates[i] for i in items],
        agent,
        len(candidates) - len(items),
        seed=seed,
        folds=folds,
        epochs=epochs,
    )


@dataclass(frozen=True)
class RealismControls:
    """The two controls every matched AUC is reported with; both should cover 0.5.

    Attributes:
        reference: a reference draw against a disjoint reference draw (same actions).
        nearest: ``nearest``'s outputs (real stacks selected as counterfactuals) against the
            reference.
    """

    reference: MatchedRealism
    nearest: MatchedRealism

    def failures(self) -> list[str]:
        """One sentence per control whose interval misses 0.5 (empty: the test can be trusted)."""
        out = []
        for name, control in (
            ("reference vs disjoint reference", self.reference),
            ("nearest vs reference", self.nearest),
        ):
            for judge in JUDGES:
                estimate = control.cnn if judge == "cnn" else control.probe
                if estimate is not None and not estimate.covers(0.5):
                    out.append(
                        f"control {name} ({judge}) is {estimate}, not at chance: the matched "
                        "test measures selection there and is not to be trusted"
                    )
        return out

    @property
    def computed(self) -> bool:
        """Whether both controls had enough items to run."""
        return all(c.cnn is not None for c in (self.reference, self.nearest))

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_vs_reference": self.reference.to_dict(),
            "nearest_vs_reference": self.nearest.to_dict(),
            "failures": self.failures(),
        }


def realism_controls(
    agent: Agent,
    domain: Domain,
    nearest_outputs: Sequence[AtariState],
    pool: ReferencePool,
    *,
    seed: int = 0,
    folds: int = 5,
    epochs: int = 15,
) -> RealismControls:
    """Both controls. The reference-vs-reference draws are matched to the actions of
    ``nearest``'s outputs, one after the other without sharing a stack."""
    rng = np.random.default_rng(seed + 1)
    actions, confidences = (list(a) for a in agent_decisions(agent, domain, nearest_outputs))
    items_a, drawn_a = pool.draw(actions, rng, confidences=confidences)
    available = np.ones(len(pool.states), bool)
    available[drawn_a] = False
    items_b, drawn_b = pool.draw(
        [actions[i] for i in items_a],
        rng,
        available,
        confidences=[float(pool.confidences[j]) for j in drawn_a],
    )
    first = [pool.states[drawn_a[i]] for i in items_b]
    reference = _judge_both(
        first,
        [pool.states[j] for j in drawn_b],
        agent,
        len(actions) - len(items_b),
        seed=seed,
        folds=folds,
        epochs=epochs,
    )
    nearest = matched_realism(
        agent, domain, nearest_outputs, pool, seed=seed, folds=folds, epochs=epochs
    )
    return RealismControls(reference, nearest)


# -- persistence and transfer --------------------------------------------------------------------


@dataclass(frozen=True)
class Persistence:
    """How many flips survive a light noise-and-denoise by the generator.

    Attributes:
        share: kept flips / counterfactuals checked (None when none were).
        kept: per counterfactual, whether the purified stack still changes the agent's action.
        strength: the noise level (fraction of the generator's training timesteps).
        generator_calls: UNet evaluations spent in all.
    """

    share: float | None
    kept: tuple[bool, ...]
    strength: float
    generator_calls: int


def persistence(
    generator: AtariGenerator,
    agent: Agent,
    domain: Domain,
    originals: Sequence[AtariState],
    counterfactuals: Sequence[AtariState],
    *,
    strength: float = 0.1,
    steps: int = 20,
    seed: int = 0,
) -> Persistence:
    """The purification check of DP-DQN: noise each counterfactual to ``strength``, denoise it
    with the generator (DDIM over the ``steps``-step schedule's timesteps at or below it,
    unguided), decode it to a legal stack (``domain.decode_like``) and ask whether the agent's
    action still differs from its action on the original.

    ``strength=0`` decodes the counterfactual unchanged (no UNet call), so every flip is kept.

    Raises:
        InvalidArgumentError: ``strength`` outside [0, 1) or unpaired lists.
    """
    if not 0.0 <= strength < 1.0:
        raise InvalidArgumentError(f"strength must be in [0, 1), got {strength}.")
    if len(originals) != len(counterfactuals):
        raise InvalidArgumentError(
            f"originals ({len(originals)}) and counterfactuals ({len(counterfactuals)}) must pair."
        )
    if not counterfactuals:
        return Persistence(None, (), strength, 0)
    scheduler = generator.scheduler
    scheduler.set_timesteps(steps)
    t_max = strength * scheduler.config.num_train_timesteps
    timesteps = [t for t in scheduler.timesteps if 0 < strength and t <= t_max]
    rng = torch.Generator().manual_seed(seed)
    purified: list[AtariState] = []
    calls = 0
    for chunk in _chunks(list(counterfactuals), 16):
        x0 = generator.to_model_space(chunk)
        x = x0
        if timesteps:
            noise = torch.randn(x0.shape, generator=rng)
            x = scheduler.add_noise(x0, noise, timesteps[0].reshape(1))
            for t in timesteps:
                with torch.no_grad():
                    eps = generator.unet(x, t).sample
                calls += len(chunk)
                x = scheduler.step(eps, t, x).prev_sample
        crops = generator.crop(x)
        purified += [domain.decode_like(c, like) for c, like in zip(crops, chunk, strict=True)]
    before = agent_actions(agent, domain, originals)
    after = agent_actions(agent, domain, purified)
    kept = tuple(bool(a != b) for a, b in zip(after, before, strict=True))
    return Persistence(float(np.mean(kept)), kept, strength, calls)


@dataclass(frozen=True)
class Transfer:
    """Whether counterfactuals move another agent too (Hvilshøj et al.'s oracle score).

    Attributes:
        share_of_valid: valid counterfactuals that also change the other agent's action, over
            the valid ones (None without any).
        share_of_pairs: the same count over all pairs (for the explaining agent itself this is
            its validity).
        n_valid: valid counterfactuals.
        n_pairs: pairs explained.
    """

    share_of_valid: float | None
    share_of_pairs: float | None
    n_valid: int
    n_pairs: int


def transfer(
    other: Agent,
    domain: Domain,
    originals: Sequence[Any],
    counterfactuals: Sequence[Any | None],
    valid: Sequence[bool],
) -> Transfer:
    """The share of valid counterfactuals on which ``other`` acts differently than on the
    original (its own argmax on each). Invalid or missing counterfactuals never count."""
    if not len(originals) == len(counterfactuals) == len(valid):
        raise InvalidArgumentError(
            f"originals ({len(originals)}), counterfactuals ({len(counterfactuals)}) and valid "
            f"({len(valid)}) must pair."
        )
    idx = [i for i, ok in enumerate(valid) if ok and counterfactuals[i] is not None]
    if not idx:
        return Transfer(None, 0.0 if originals else None, 0, len(originals))
    before = agent_actions(other, domain, [originals[i] for i in idx])
    after = agent_actions(other, domain, [counterfactuals[i] for i in idx])
    moved = int(np.count_nonzero(before != after))
    return Transfer(moved / len(idx), moved / len(originals), len(idx), len(originals))


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


__all__ = [
    "JUDGES",
    "MIN_ITEMS",
    "AUCEstimate",
    "Judge",
    "MatchedRealism",
    "Persistence",
    "RealismControls",
    "ReferencePool",
    "Transfer",
    "agent_actions",
    "agent_decisions",
    "bootstrap_auc",
    "match_reference",
    "matched_realism",
    "out_of_fold_scores",
    "persistence",
    "realism_controls",
    "roc_auc",
    "transfer",
    "two_sample_auc",
]
