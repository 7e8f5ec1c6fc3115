"""``pixel``: a gradient attack straight on the observation tensor, then decoded.

The baseline that shows what realism costs: the optimiser happily meets the target on a tensor
no maze produces, and the honest judge then looks at the nearest legal level instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from .base import Budget, Method, Query


@dataclass
class PixelMethod(Method):
    """Adam on the observation, maximising the target score minus an L1 closeness penalty.

    Attributes:
        steps: most optimiser steps.
        lr: Adam step size.
        closeness: weight of the L1 penalty to the original tensor (in units of its range).
    """

    name: ClassVar[str] = "pixel"
    steps: int = 100
    lr: float = 0.05
    closeness: float = 0.05

    def _propose(self, query: Query, budget: Budget) -> Any | None:
        # Optimise in units of the observation's range (symbolic mazes 0-1, pixels 0-255), so one
        # step size and penalty serve every domain.
        unit = query.domain.obs_scale
        x0 = query.domain.encode(query.state)[None] / unit
        x = x0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([x], lr=self.lr)
        for _ in range(self.steps):
            logits = query.agent.action_logits(x * unit)
            values = query.agent.value(x * unit) if query.target.needs_value else None
            budget.agent_calls += 1
            with torch.no_grad():
                done = query.steer.satisfied(
                    query.agent.probs_from_logits(logits),
                    values,
                    query.original_action,
                    query.original_value,
                )
            if bool(done[0]):
                break  # met on the raw tensor: exactly what this baseline optimises for
            loss = -query.steer.score(logits, values, query.original_action).sum()
            loss = loss + self.closeness * (x - x0).abs().sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        # The honest step: only the nearest legal state (mazes: same size and mouse) is judged.
        return query.domain.decode_like(x.detach()[0] * unit, query.state)
