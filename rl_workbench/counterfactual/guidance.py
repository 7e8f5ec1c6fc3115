"""One guided SDEdit attempt, shared by the level methods (maze lattices, MiniGrid rooms).

Noise the real state's encoding to ``strength * T`` (SDEdit, Meng et al. 2022), then denoise with
DDIM; at each step the one-step clean estimate ``x0_hat`` is shown to the agent through the
caller's differentiable ``observe``, and the gradient of
``score(target) - closeness * ||x0_hat - x0||^2`` with respect to ``x0_hat`` (no backprop through
the UNet, as in FastDiME) shifts the noise estimate: ``eps <- eps - scale * sqrt(1 - a_t) * grad``
(classifier guidance, Dhariwal & Nichol eq. 14).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from diffusers import DDIMScheduler

from .base import Budget, Query


def guided_sdedit(
    query: Query,
    budget: Budget,
    x0: torch.Tensor,
    scheduler: DDIMScheduler,
    predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    observe: Callable[[torch.Tensor], torch.Tensor],
    *,
    strength: float,
    scale: float,
    closeness: float,
) -> torch.Tensor:
    """The denoised model-space sample of one attempt (``scheduler`` predicts noise and has its
    timesteps set; ``predict(x_t, t)`` is the model's noise, ``observe(x0_hat)`` the agent's
    observations of a clean estimate)."""
    t_max = strength * scheduler.config.num_train_timesteps
    timesteps = [t for t in scheduler.timesteps if t <= t_max]
    noise = torch.randn(x0.shape, generator=query.rng)
    x = scheduler.add_noise(x0, noise, timesteps[0].reshape(1))
    for t in timesteps:
        with torch.no_grad():
            eps = predict(x, t)
        alpha = scheduler.alphas_cumprod[t]
        x0_hat = ((x - (1 - alpha).sqrt() * eps) / alpha.sqrt()).clamp(-1, 1)
        x0_hat = x0_hat.detach().requires_grad_(True)
        obs = observe(x0_hat)
        logits = query.agent.action_logits(obs)
        values = query.agent.value(obs) if query.target.needs_value else None
        budget.agent_calls += 1
        objective = query.steer.score(logits, values, query.original_action).sum()
        objective = objective - closeness * ((x0_hat - x0) ** 2).sum()
        (grad,) = torch.autograd.grad(objective, x0_hat)
        eps = eps - scale * (1 - alpha).sqrt() * grad
        x = scheduler.step(eps, t, x).prev_sample
    return x
