"""The one interface every agent is seen through.

Everything above this package (counterfactual search, audits, quizzes) needs the same three
things of an agent: logits it can differentiate with respect to the observation, a value where the
agent has a critic, and names for its actions. Adapters turn stable-baselines3 models into this
shape; any ``torch.nn.Module`` with these methods works too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import gymnasium as gym
import numpy as np
import torch

from rl_workbench.errors import SpaceMismatchError


class Agent(ABC):
    """A trained policy seen as a differentiable function of its observation.

    Attributes:
        observation_space: the space of one observation *as the environment emits it*
            (adapters handle any transposition the underlying model needs).
        action_names: one name per discrete action, in action order.
    """

    observation_space: gym.spaces.Box
    action_names: tuple[str, ...]

    @property
    def n_actions(self) -> int:
        """Number of discrete actions."""
        return len(self.action_names)

    @abstractmethod
    def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
        """Logits [B, A] for a batch of observations [B, *observation_space.shape].

        Differentiable with respect to ``obs`` (float tensor; uint8 inputs are accepted but then
        carry no gradient).
        """

    def action_probs(self, obs: torch.Tensor) -> torch.Tensor:
        """The action distribution [B, A] the agent acts from."""
        return self.probs_from_logits(self.action_logits(obs))

    def probs_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """The acting distribution for logits already computed (softmax unless overridden), so
        callers that need both pay for one forward pass."""
        return torch.softmax(logits, dim=-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor | None:
        """State values [B], or None when the agent has no critic."""
        return None

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """The agent's own representation [B, F] of a batch of observations [B, *shape].

        What a linear probe of realism reads (a counterfactual that looks real to the agent's
        own encoder). Adapters with a feature extractor return its output; the default is the
        logits, the one representation every agent has.
        """
        return self.action_logits(obs)

    @property
    def has_value(self) -> bool:
        """Whether :meth:`value` returns numbers."""
        return False

    def to_tensor(self, obs: np.ndarray | torch.Tensor) -> torch.Tensor:
        """A float32 batch tensor from one observation or a batch of them (numpy or torch)."""
        t = torch.as_tensor(np.asarray(obs) if not isinstance(obs, torch.Tensor) else obs)
        if t.dim() == len(self.observation_space.shape):
            t = t.unsqueeze(0)
        if tuple(t.shape[1:]) != tuple(self.observation_space.shape):
            raise SpaceMismatchError(
                f"Observation batch has shape {tuple(t.shape)} but the agent expects "
                f"[B, {', '.join(map(str, self.observation_space.shape))}]."
            )
        return t.float()

    @torch.no_grad()
    def act(
        self, obs: np.ndarray | torch.Tensor, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Actions [B]: argmax, or sampled from :meth:`action_probs` when ``rng`` is given."""
        probs = self.action_probs(self.to_tensor(obs)).numpy()
        return choose_actions(probs, rng)

    @torch.no_grad()
    def evaluate_batch(
        self, obs: np.ndarray | torch.Tensor
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities [B, A], values [B] or None) as numpy, without gradients."""
        x = self.to_tensor(obs)
        probs = self.action_probs(x).numpy()
        value = self.value(x)
        return probs, None if value is None else value.numpy()


class UniformRandomAgent(Agent):
    """The baseline every score is compared with: all actions equally likely, whatever it sees."""

    def __init__(self, observation_space: gym.spaces.Box, action_names: tuple[str, ...]) -> None:
        self.observation_space = observation_space
        self.action_names = tuple(action_names)

    def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.zeros(obs.shape[0], self.n_actions)


def choose_actions(probs: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """Actions [B] from distributions [B, A]: argmax without ``rng``, else one sample per row."""
    if rng is None:
        return probs.argmax(axis=1)
    cum = probs.astype(np.float64).cumsum(axis=1)
    u = rng.random((probs.shape[0], 1)) * cum[:, -1:]
    return (u > cum).sum(axis=1).clip(max=probs.shape[1] - 1)
