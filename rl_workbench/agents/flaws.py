"""Agents with a flaw planted on purpose, so a quiz knows exactly what is wrong with them.

Olson et al.'s study asked people to tell a normal agent from an ablated one and to say what the
ablated one ignores; planting the flaw ourselves gives that question an exact answer.
"""

from __future__ import annotations

import torch

from rl_workbench.envs.maze import COLORS
from rl_workbench.errors import InvalidArgumentError

from .base import Agent

CHEESE_CHANNEL = 3  # rl_workbench.envs.maze.CHANNELS: wall, free, mouse, cheese, sign, out


class BlindAgent(Agent):
    """The base agent with one object removed from its input before every forward pass.

    Subclasses say how the object is removed from their observation mode (one hook, ``_ablate``).

    Attributes:
        base: the agent whose input is ablated.
        blind_to: what it cannot see (for people: "the cheese").
    """

    def __init__(self, base: Agent, blind_to: str) -> None:
        self.base = base
        self.blind_to = blind_to
        self.observation_space = base.observation_space
        self.action_names = base.action_names

    def _ablate(self, obs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
        return self.base.action_logits(self._ablate(obs))

    def probs_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        return self.base.probs_from_logits(logits)

    def value(self, obs: torch.Tensor) -> torch.Tensor | None:
        return self.base.value(self._ablate(obs))

    @property
    def has_value(self) -> bool:
        return self.base.has_value


class BlindChannelAgent(BlindAgent):
    """The base agent with one observation channel zeroed: it cannot see that object.

    Attributes:
        channel: the channel index zeroed before every forward pass.
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
        super().__init__(base, blind_to)
        self.channel = channel

    def _ablate(self, obs: torch.Tensor) -> torch.Tensor:
        mask = torch.ones(obs.shape[1], 1, 1, dtype=obs.dtype)
        mask[self.channel] = 0
        return obs * mask


class BlindColourAgent(BlindAgent):
    """The base agent with every pixel of one colour repainted: it cannot see that object.

    For agents on the maze's RGB view, where each object is one flat colour, repainting the
    cheese's pixels in the floor's colour is exactly the RGB twin of zeroing the cheese channel.

    Attributes:
        colour: the RGB colour (0-255) that is repainted.
        replacement: the colour painted over it.
    """

    def __init__(
        self,
        base: Agent,
        colour: tuple[int, int, int],
        replacement: tuple[int, int, int],
        blind_to: str,
    ) -> None:
        shape = tuple(base.observation_space.shape)
        if len(shape) != 3 or shape[-1] != 3:
            raise InvalidArgumentError(
                f"Cannot repaint a colour for an agent observing {shape}; colour flaws apply to "
                "RGB maze agents (channels last, [H, W, 3])."
            )
        super().__init__(base, blind_to)
        self.colour = torch.tensor(colour, dtype=torch.float32)
        self.replacement = torch.tensor(replacement, dtype=torch.float32)

    def _ablate(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.float()
        hit = (x == self.colour).all(dim=-1, keepdim=True)
        return torch.where(hit, self.replacement, x)


def plant_flaw(agent: Agent, flaw: str) -> Agent:
    """An agent with a named flaw (``blind-cheese``), planted in its own observation mode: the
    cheese channel zeroed for symbolic maze agents, the cheese's pixels repainted as floor for
    RGB ones (channels last)."""
    if flaw == "blind-cheese":
        shape = tuple(agent.observation_space.shape)
        if len(shape) == 3 and shape[-1] == 3:
            return BlindColourAgent(agent, COLORS["cheese"], COLORS["free"], "the cheese")
        return BlindChannelAgent(agent, CHEESE_CHANNEL, "the cheese")
    raise InvalidArgumentError(f"Unknown flaw {flaw!r}; known: blind-cheese.")
