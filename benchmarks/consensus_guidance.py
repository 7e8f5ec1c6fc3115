"""``diffusion`` guided and selected by peer agents too: does a flip that moves two networks of
the same game move a third (issue 12, section 1's transfer)?

Transfer asks how often a counterfactual of one agent also changes the action of independently
trained agents. A flip tuned to one network rarely does (7-9% for the default against 25% for
``nearest``'s real stacks). The usual remedy for adversarial edits is an ensemble: push every
model at once and keep what moves them all. ``ConsensusMethod`` is the default inpainting method
with that remedy: each guided attempt moves the box along the explained agent's target gradient
plus, for each peer, the gradient that pushes it off its own action on the original (each scaled
to a largest entry of 1, the sum rescaled the same way), and among an attempt's flips it keeps the
closest one that also moves every peer, else goes on to the next attempt (the closest flip that
did not is the fallback). Transfer is then measured on *other* agents than the peers.

Run through ``inpainting_attempts.py --peers A.zip [B.zip ...]``. A benchmark probe, not a product
method: measured, it does not raise transfer to the held-out agents (BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from rl_workbench.agents.base import Agent
from rl_workbench.counterfactual.base import Budget, Query
from rl_workbench.counterfactual.stack_inpainting import (
    StackInpaintingMethod,
    unit_max,
    windows_in_stack,
)
from rl_workbench.domains.atari import AtariState
from rl_workbench.generative.atari_inpainter import AtariInpainter


@dataclass
class ConsensusMethod(StackInpaintingMethod):
    """The default inpainting method, guided by ``peers`` as well and keeping flips that move them.

    Attributes:
        peers: other agents of the same game (not the ones transfer is measured on).
        weight: the peers' share of the guidance against the explained agent's (1: equal).
    """

    peers: tuple[Agent, ...] = field(default=(), repr=False)
    weight: float = 1.0
    _own: dict[AtariState, list[int]] = field(default_factory=dict, init=False, repr=False)

    def _peer_actions(self, query: Query) -> list[int]:
        """Each peer's own action on the original (cached per state)."""
        if query.state not in self._own:
            obs = torch.from_numpy(query.state.obs.astype(np.float32))[None]
            with torch.no_grad():
                self._own[query.state] = [int(p.action_logits(obs).argmax()) for p in self.peers]
        return self._own[query.state]

    def _target_gradient(
        self,
        query: Query,
        budget: Budget,
        full: torch.Tensor,
        tops: list[tuple[int, int]],
        windows: torch.Tensor,
    ) -> torch.Tensor:
        own = super()._target_gradient(query, budget, full, tops, windows)
        if not self.peers or self.weight == 0.0:
            return own
        windows = windows.detach().requires_grad_(True)
        obs = windows_in_stack(full, tops, windows)
        score = torch.zeros(())
        for peer, action in zip(self.peers, self._peer_actions(query), strict=True):
            score = score - torch.log_softmax(peer.action_logits(obs), dim=-1)[:, action].sum()
        budget.agent_calls += len(obs) * len(self.peers)
        (theirs,) = torch.autograd.grad(score, windows)
        total = own + self.weight * unit_max(theirs)
        return unit_max(total)

    def _persistent(
        self,
        query: Query,
        budget: Budget,
        gen: AtariInpainter,
        valid: list[AtariState],
        boxes: list[Any],
    ) -> AtariState | None:
        """The closest of ``valid`` that moves every peer too (replaces the persistence check:
        run with ``prefer="persistent"``)."""
        obs = torch.stack([query.domain.encode(c) for c in valid])
        moved = torch.ones(len(valid), dtype=torch.bool)
        with torch.no_grad():
            for peer, action in zip(self.peers, self._peer_actions(query), strict=True):
                moved &= peer.action_logits(obs).argmax(dim=1).ne(action)
        budget.agent_calls += len(valid) * len(self.peers)
        return next((c for c, m in zip(valid, moved.tolist(), strict=True) if m), None)
