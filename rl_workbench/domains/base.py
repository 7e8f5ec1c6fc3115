"""What every domain offers the rest of the workbench, whatever its states are.

Mazes have symbolic levels with atomic edits; Atari has quantised uint8 frame stacks. Methods,
``rlwb explain``, the quiz and the audit only need the operations below, so one engine (and one
honesty rule) serves every family. Concrete domains live one per module (``maze.py``,
``atari.py``) and are named in one place, :mod:`rl_workbench.domains.registry`; callers ask the
domain instead of branching on state types or family strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Protocol, TypeVar

import gymnasium as gym
import numpy as np
import torch

S = TypeVar("S")


class Domain(Protocol[S]):
    """A family of states seen as the agent's tensors and back.

    Attributes:
        family: the registry key ("maze", "atari"); layers above use it to look up what they own
            for the family (report figures, quiz widgets, diffusion algorithms, generator types).
        methods: the counterfactual methods this domain supports, in the order reports list them.
        sample_steps: states are drawn after 0 to ``sample_steps - 1`` agent steps of an episode
            (see ``sample_states``).
        sampling: how ``sample_states`` draws states, in one sentence for reports.
        dataset_arrays: the dataset arrays :meth:`states_from_arrays` reads.
    """

    family: ClassVar[str]
    methods: ClassVar[tuple[str, ...]]
    sample_steps: ClassVar[int]
    sampling: ClassVar[str]
    dataset_arrays: ClassVar[tuple[str, ...]]

    @property
    def obs_scale(self) -> float:
        """The range of one observation value (1 for 0/1 channels, 255 for uint8 pixels)."""
        ...

    @property
    def default_generator(self) -> str | None:
        """The shipped generator reference for this domain's states, or None."""
        ...

    @property
    def default_autoencoder(self) -> str | None:
        """The shipped generator folder whose ``vae/`` the latent method searches, or None."""
        ...

    def encode(self, state: S) -> torch.Tensor:
        """The agent's input for ``state``: float, shaped like one env observation."""
        ...

    def decode_like(self, x: torch.Tensor, like: S) -> S:
        """The nearest legal state to an observation ``x``, keeping what methods must not change
        in ``like`` (mazes: the maze size and the mouse; Atari: nothing, it is only quantised)."""
        ...

    def is_on_distribution(self, state: S) -> bool | None:
        """Whether the environment could produce ``state``; None where no exact check exists."""
        ...

    def distance(self, a: S, b: S) -> float:
        """How far apart two states are: atomic edits (mazes) or changed values (Atari);
        ``inf`` when they cannot be compared (e.g. mazes of different sizes)."""
        ...

    def state_to_json(self, state: S) -> Any:
        """A JSON form of the state, or None where states are saved as arrays instead."""
        ...

    def state_arrays(self, state: S) -> np.ndarray | None:
        """The state as the exact array saved beside a report item, or None (JSON suffices)."""
        ...

    def pair_metrics(self, a: S, b: S) -> dict[str, float]:
        """Extra figures of a (original, counterfactual) pair a report summarises by median."""
        ...

    def picture(self, state: S) -> Any:
        """What the family's report figure draws: the level, or the uint8 frame stack."""
        ...

    def sample_states(
        self,
        env: gym.Env,
        act: Callable[[np.ndarray, np.random.Generator], int],
        n: int,
        seed: int,
    ) -> list[S]:
        """``n`` states the agent meets in play of ``env`` (made by ``make_env``), drawn as the
        domain documents (episodes, step distribution, duplicates); ``act(obs, rng)`` is the
        agent's action, all randomness drawn from one generator seeded with ``seed``."""
        ...

    def state_from_env(self, env: gym.Env, obs: np.ndarray) -> S:
        """The state an env (made by ``make_env``) is in, given its last observation."""
        ...

    def states_from_arrays(self, arrays: Mapping[str, np.ndarray]) -> list[S]:
        """Every row's state from a dataset's arrays (named in ``dataset_arrays``)."""
        ...


class LevelDomain(Domain[S], Protocol[S]):
    """A domain of symbolic levels: atomic edits, and a level tensor apart from the observation.

    The search method and level diffusion need these; a gridworld family provides them, a pixel
    family does not.
    """

    def edits(self, state: S) -> Iterator[Any]:
        """Every legal atomic edit of ``state`` (each has ``apply(state)`` and ``describe()``)."""
        ...

    def level_tensor(self, state: S) -> torch.Tensor:
        """The symbolic level [C, W, W] a generator models, whatever the agent sees."""
        ...

    def observe_levels(self, levels: torch.Tensor) -> torch.Tensor:
        """The agent's observations [B, ...] of level tensors [B, C, W, W], differentiably."""
        ...

    def decode_level_like(self, x: torch.Tensor, like: S) -> S:
        """The nearest legal level to a level tensor, keeping ``like``'s size and mouse."""
        ...
