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
