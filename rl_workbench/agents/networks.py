"""Feature extractors for the agents we train.

stable-baselines3 stores the extractor's class by import path inside the model's ``.zip``, so
these classes are part of our agents' file format: rename or change them only with a version bump
of the zoo.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


class GridCNN(BaseFeaturesExtractor):
    """A small all-'same'-padding CNN for symbolic grids [C, H, W], then a dense layer.

    Padding keeps every cell's features aligned with its position, and the dense layer sees the
    whole world at once, which the maze needs: the right move depends on cells far from the mouse.

    Args:
        observation_space: Box of shape [C, H, W] (channels first).
        channels: output channels of the three conv layers.
        features_dim: size of the output feature vector.
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        channels: int = 32,
        features_dim: int = 256,
    ) -> None:
        super().__init__(observation_space, features_dim)
        c, h, w = observation_space.shape
        self.cnn = nn.Sequential(
            nn.Conv2d(c, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.linear = nn.Sequential(nn.Linear(channels * h * w, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.linear(self.cnn(observations))


class MouseReadoutCNN(BaseFeaturesExtractor):
    """A deep 'same'-padding CNN read out at the agent's own cell, plus a global max-pool.

    The conv stack's receptive field covers the whole world, so information about the goal can
    flow along corridors to the agent's cell, much like a learned value-iteration sweep; reading
    the features where the agent stands makes the policy translation-equivariant, which lets one
    network generalise across maze sizes and layouts with far fewer samples than a dense layer
    over the whole grid.

    Args:
        observation_space: Box of shape [C, H, W] (channels first).
        agent_channel: index of the channel that is 1 exactly on the agent's cell.
        channels: width of every conv layer.
        depth: number of 3x3 conv layers (receptive field 2 * depth + 1).
        features_dim: size of the output feature vector.
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        agent_channel: int = 2,
        channels: int = 32,
        depth: int = 8,
        features_dim: int = 128,
    ) -> None:
        super().__init__(observation_space, features_dim)
        c = observation_space.shape[0]
        layers: list[nn.Module] = [nn.Conv2d(c, channels, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
        self.cnn = nn.Sequential(*layers)
        self.agent_channel = agent_channel
        self.linear = nn.Sequential(nn.Linear(2 * channels, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        features = self.cnn(observations)  # [B, K, H, W]
        where = observations[:, self.agent_channel : self.agent_channel + 1]  # [B, 1, H, W]
        at_agent = (features * where).sum(dim=(2, 3))  # [B, K]
        pooled = features.amax(dim=(2, 3))  # [B, K]
        return self.linear(torch.cat([at_agent, pooled], dim=1))
