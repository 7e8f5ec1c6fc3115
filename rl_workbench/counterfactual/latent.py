"""``latent``: gradient search in an autoencoder's latent space (the Olson/Rupprecht family).

Olson et al. (2021) and Rupprecht et al. (2020) move a state's code in the latent space of a
model trained on the game's frames until the agent acts differently, and show the decoded frame.
Here the model is a diffusers ``AutoencoderKL`` fitted on the same stacks as the diffusion
generator. The counterfactual is the decoded stack, quantised: whatever the decoder does not
reproduce (small sprites, exact grey levels) is part of the change, as it is for that family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import AtariAutoencoder

from .base import Budget, Method, Query


@dataclass
class LatentMethod(Method):
    """Adam on the latent code: target score minus squared distance of the decoded stack.

    Attributes:
        autoencoder: the fitted autoencoder (a generator folder's ``vae/``).
        steps: most optimiser steps (one decoder call each, plus one encoder call).
        lr: Adam step size on the code.
        closeness: weight of the mean squared distance to the original stack (model space).
    """

    name: ClassVar[str] = "latent"
    autoencoder: AtariAutoencoder | None = field(default=None, repr=False)
    steps: int = 50
    lr: float = 0.05
    closeness: float = 10.0

    def __post_init__(self) -> None:
        if self.autoencoder is None:
            raise InvalidArgumentError(
                "The latent method needs an autoencoder: pass --generator GEN where GEN has a "
                "vae/ (fit one with `rlwb fit-autoencoder --data DIR --out GEN`)."
            )

    def _propose(self, query: Query, budget: Budget) -> Any | None:
        ae = self.autoencoder
        assert ae is not None
        x0 = ae.to_model_space([query.state])
        with torch.no_grad():
            z = ae.encode(x0).clone()
        budget.generator_calls += 1
        z.requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=self.lr)
        proposal = None
        for _ in range(self.steps):
            x = ae.decode(z)
            budget.generator_calls += 1
            obs = ae.crop(x)
            # Judge the quantised stack, the only thing the agent could ever be shown.
            proposal = query.domain.decode_like(obs[0], query.state)
            _score, ok = query.score_levels([proposal], budget)
            if bool(ok[0]):
                return proposal
            logits = query.agent.action_logits(obs)
            values = query.agent.value(obs) if query.target.needs_value else None
            budget.agent_calls += 1
            loss = -query.steer.score(logits, values, query.original_action).sum()
            loss = loss + self.closeness * ((x - x0) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return proposal
