"""Adapters for stable-baselines3 PPO, A2C and DQN models, read from their ordinary ``.zip`` files.

The adapter is exact: for PPO and A2C its probabilities are the policy's own
``get_distribution(obs).distribution.probs``; for DQN the logits are the Q-values (so gradient
guidance can use a softmax of Q) while the distribution the agent acts from is one-hot on argmax Q,
and the value is max Q.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, cast

import gymnasium as gym
import torch
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy

from rl_workbench.errors import AgentLoadError, SpaceMismatchError

from .agent_file import AgentFile, check_supported
from .base import Agent

Algorithm = Literal["PPO", "A2C", "DQN"]
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"PPO": PPO, "A2C": A2C, "DQN": DQN}
"""The stable-baselines3 algorithms the adapter understands, by name."""


class SB3Agent(Agent):
    """A stable-baselines3 model seen through the :class:`Agent` interface.

    Args:
        model: a loaded PPO, A2C or DQN model with a discrete action space.
        action_names: one name per action; defaults to "action 0", "action 1", ...
        observation_space: the space the *environment* emits. When it is the channels-last
            version of the model's channels-first space (stable-baselines3 transposes image
            observations while training), observations are transposed before the forward pass.

    Raises:
        SpaceMismatchError: the spaces cannot be reconciled, or actions are not discrete.
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        action_names: tuple[str, ...] | None = None,
        observation_space: gym.spaces.Box | None = None,
    ) -> None:
        if not isinstance(model.action_space, gym.spaces.Discrete):
            raise SpaceMismatchError(
                f"Only discrete-action agents are supported; this model's action space is "
                f"{model.action_space}."
            )
        self.model = model
        self.policy = model.policy
        self.policy.set_training_mode(False)
        self.algorithm: Algorithm = type(model).__name__  # type: ignore[assignment]
        model_space = model.observation_space
        if not isinstance(model_space, gym.spaces.Box):
            raise SpaceMismatchError(
                f"Only Box observations are supported; this model's space is {model_space}."
            )
        env_space = model_space if observation_space is None else observation_space
        self._transpose = _needs_transpose(env_space, model_space)
        self.observation_space = env_space
        n = int(model.action_space.n)
        names = tuple(action_names) if action_names else tuple(f"action {i}" for i in range(n))
        if len(names) != n:
            raise SpaceMismatchError(
                f"The model has {n} actions but {len(names)} action names were given: {names}."
            )
        self.action_names = names

    def _model_input(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.float()
        if self._transpose:
            x = x.permute(0, 3, 1, 2)
        return x

    def action_logits(self, obs: torch.Tensor) -> torch.Tensor:
        x = self._model_input(obs)
        if isinstance(self.model, DQN):
            return self.model.q_net(x)
        return self._actor_critic.get_distribution(x).distribution.logits  # type: ignore[union-attr]

    def probs_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        if isinstance(self.model, DQN):
            return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
        return torch.softmax(logits, dim=-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        x = self._model_input(obs)
        if isinstance(self.model, DQN):
            return self.model.q_net(x).max(dim=-1).values
        return self._actor_critic.predict_values(x).squeeze(-1)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """The policy's feature extractor output [B, F] (NatureCNN: F = 512), after the
        policy's own preprocessing (images scaled to [0, 1]); for DQN, the Q-network's."""
        x = self._model_input(obs)
        if isinstance(self.model, DQN):
            q_net = self.model.q_net
            return q_net.extract_features(x, q_net.features_extractor)
        policy = self._actor_critic
        return policy.extract_features(x, policy.pi_features_extractor)  # type: ignore[return-value]

    @property
    def _actor_critic(self) -> ActorCriticPolicy:
        return cast(ActorCriticPolicy, self.policy)

    @property
    def has_value(self) -> bool:
        return True


def _needs_transpose(env_space: gym.spaces.Box, model_space: gym.spaces.Box) -> bool:
    env_shape, model_shape = tuple(env_space.shape), tuple(model_space.shape)
    if env_shape == model_shape:
        return False
    if len(env_shape) == 3 and (env_shape[2], env_shape[0], env_shape[1]) == model_shape:
        return True
    raise SpaceMismatchError(
        f"The agent was trained on observations of shape {model_shape} but the environment "
        f"emits {env_shape}. Use the environment (and keyword arguments) the agent was trained "
        "on; its card.json, if it has one, names them."
    )


def detect_algorithm(path: Path) -> Algorithm:
    """Read which algorithm saved a stable-baselines3 ``.zip`` without unpickling anything.

    Raises:
        AgentLoadError: the file is not a readable stable-baselines3 model.
        UnsupportedAlgorithmError: it was saved by an algorithm other than PPO, A2C or DQN.
    """
    return check_supported(AgentFile.read(path))  # type: ignore[return-value]


def load_sb3_model(
    path: Path,
    algorithm: Algorithm | None = None,
    *,
    trust: bool = False,
    env: Any = None,
    device: str = "cpu",
) -> BaseAlgorithm:
    """Load a stable-baselines3 model on the CPU without running code from the file.

    Every pickled field is checked against an allowlist before anything is unpickled (see
    :mod:`rl_workbench.agents.agent_file`); ``trust=True`` lifts that check.

    Args:
        path: the ``.zip``.
        algorithm: the algorithm a card names; it must agree with what the file holds.
        trust: unpickle classes off the allowlist too (runs code from the file).
        env: an environment to attach, for resuming training.
        device: where the networks go ("cpu" unless training resumes on a GPU).

    Raises:
        AgentLoadError: missing, damaged or foreign file (``UntrustedAgentError`` when it would
            run code, ``UnsupportedAlgorithmError`` for other algorithms). Nothing else.
    """
    path = Path(path)
    if not path.is_file():
        raise AgentLoadError(
            f"No agent file at {path}. Pass the path of a stable-baselines3 .zip, or zoo:NAME "
            "for a shipped agent (see `rlwb zoo list`)."
        )
    agent_file = AgentFile.read(path)
    found = check_supported(agent_file)
    if algorithm is not None and algorithm != found:
        raise AgentLoadError(
            f"{path} holds a {found} model but its card says {algorithm}. Fix the card's "
            f"'algorithm' field (or remove the card and pass --env)."
        )
    objects = agent_file.objects(trust=trust)
    try:
        return ALGORITHMS[found].load(
            path, env=env, device=device, custom_objects=objects, print_system_info=False
        )
    except Exception as exc:  # SB3 raises many types for a damaged or foreign file
        raise AgentLoadError(
            f"Could not load {path} as a {found} model ({exc.__class__.__name__}: {exc}). "
            "Re-save it with model.save(), or check that it matches the environment."
        ) from None


__all__ = ["ALGORITHMS", "SB3Agent", "detect_algorithm", "load_sb3_model"]
