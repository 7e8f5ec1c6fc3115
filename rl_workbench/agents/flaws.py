"""Agents with a flaw planted on purpose, so a quiz knows exactly what is wrong with them.

Olson et al.'s study asked people to tell a normal agent from an ablated one and to say what the
ablated one ignores; planting the flaw ourselves gives that question an exact answer.
"""

from __future__ import annotations

import torch

from rl_workbench.errors import InvalidArgumentError

from .base import Agent

CHEESE_CHANNEL = 3  # rl_workbench.envs.maze.CHANNELS: wall, free, mouse, cheese, sign, out


class BlindChannelAgent(Agent):
    """The base agent with one observation channel zeroed: it cannot see that object.

    Attributes:
        base: the agent whose input is ablated.
        channel: the channel index zeroed before every forward pass.
        blind_to: what that channel shows (for people: "the cheese").
    """

    def __init__(self, base: Agent, channel: int, blind_to: str) -> None:
        if (
            len(base.observation_space.shape) != 3
            or not 0 <= channel < base.observation_space.shape[0]
        ):
            raise InvalidArgumentError(
                f"Cannot blind channel {channel} of an agent observing "
                f"{tuple(base.observation_space.shape)}; flaws apply to maze agents "
                "(channels first)."
            )
        self.base = base
        self.channel = channel
        self.blind_to = blind_to
        self.observation_space = base.observation_space
        self.action_names = base.action_names

    def _ablate(self, obs: torch.Tensor) -> torch.Tensor:
        mask = torch.ones(obs.shape[1], 1, 1, dtype=obs.dtype)
        mask[self.channel] = 0
        return obs * mask

    def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
        return self.base.action_logits(self._ablate(obs))

    def probs_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        return self.base.probs_from_logits(logits)

    def value(self, obs: torch.Tensor) -> torch.Tensor | None:
        return self.base.value(self._ablate(obs))

    @property
    def has_value(self) -> bool:
        return self.base.has_value


def plant_flaw(agent: Agent, flaw: str) -> Agent:
    """An agent with a named flaw (``blind-cheese``)."""
    if flaw == "blind-cheese":
        return BlindChannelAgent(agent, CHEESE_CHANNEL, "the cheese")
    raise InvalidArgumentError(f"Unknown flaw {flaw!r}; known: blind-cheese.")
