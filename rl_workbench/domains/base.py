"""What every domain offers the rest of the workbench, whatever its states are.

Mazes have symbolic levels with atomic edits; Atari has quantised uint8 frame stacks. Methods,
``rlwb explain``, the quiz and the audit only need the operations below, so one engine (and one
honesty rule) serves every family. Concrete domains live one per module (``maze.py``,
``atari.py``) and are named in one place, :mod:`rl_workbench.domains.registry`; callers ask the
domain instead of branching on state types or family strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

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
        dataset_fields: the arrays :meth:`state_row` adds to each dataset row beside the
            observation, each with its documentation (empty: the observation is the state).
    """

    family: ClassVar[str]
    methods: ClassVar[tuple[str, ...]]
    sample_steps: ClassVar[int]
    sampling: ClassVar[str]
    dataset_arrays: ClassVar[tuple[str, ...]]
    dataset_fields: ClassVar[dict[str, str]]

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

    def content_digest(self, state: S) -> str:
        """Equal for two states a person would take for the same situation, however they were
        drawn (the quiz never shows a participant one twice)."""
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

    def state_row(self, state: S) -> dict[str, np.ndarray]:
        """The arrays a dataset keeps of one state beside its observation (``dataset_fields``),
        from which :meth:`states_from_arrays` restores it."""
        ...


class LevelDomain(Domain[S], Protocol[S]):
    """A domain of symbolic levels: atomic edits, and a level tensor apart from the observation.

    The search method and level diffusion need these; a gridworld family provides them, a pixel
    family does not.
    """

    def edits(self, state: S) -> Iterator[Any]:
        """Every legal atomic edit of ``state`` (each has ``apply(state)`` and ``describe()``)."""
        ...

    def is_playable(self, state: S) -> bool:
        """Whether an edited state is still a level the agent can play (its goal reachable)."""
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


@dataclass(frozen=True)
class Demonstrations:
    """States with a solver's action and return, for an imitation warm start before RL.

    Attributes:
        observations: [N, *obs_shape], exactly what the agent would see in each state.
        actions: int64 [N], the solver's (optimal) action.
        returns: float32 [N], the discounted return the solver earns from each state.
    """

    observations: np.ndarray
    actions: np.ndarray
    returns: np.ndarray


@runtime_checkable
class Demonstrator(Protocol):
    """A domain that can solve its own levels exactly (mazes: shortest paths), so training can
    start from imitation instead of from random play."""

    def solver_refusal(self) -> str | None:
        """Why this domain's solver cannot solve its env's levels (None: it can), checked
        before any training work."""
        ...

    def demonstrations(
        self, env: gym.Env, n: int, rng: np.random.Generator, gamma: float
    ) -> Demonstrations:
        """``n`` states of levels ``env`` (made by ``make_env``) draws, each with the solver's
        action and its discounted return under ``gamma``; all randomness from ``rng``."""
        ...


@dataclass(frozen=True)
class Rollouts:
    """Where each of a batch of rollouts went.

    Attributes:
        first: per state, the landmarks reached at the first step any was reached (empty: none
            before the end).
        closest: per state, the fewest moves between any place the agent stood and the goal
            landmark (0 when reached; -1 when unreachable).
        steps: per state, the agent steps taken.
        agent_calls: states the agent was run on, all rollouts together.
    """

    first: list[frozenset[str]]
    closest: np.ndarray
    steps: np.ndarray
    agent_calls: int

    def reached(self, goal: str) -> np.ndarray:
        """bool [B]: whether each rollout reached ``goal`` first."""
        return np.array([goal in f for f in self.first], dtype=bool)


@runtime_checkable
class BehaviourDomain(Protocol):
    """A domain with landmarks an agent can go to, so targets can be about behaviour
    (``reach:cheese``) and be judged by playing the state out."""

    landmarks: ClassVar[tuple[str, ...]]

    def roll_out(
        self,
        states: Sequence[Any],
        probs: Callable[[torch.Tensor], torch.Tensor],
        goal: str,
        *,
        greedy: bool = True,
        rng: np.random.Generator | None = None,
        until_reached: bool = False,
        rivals: Sequence[str] | None = None,
    ) -> Rollouts:
        """Play each state out with ``probs(observations) -> [B, A]`` (greedy or sampled) until
        ``goal`` or a landmark of ``rivals`` is reached or the episode would end (``rivals``
        None: the domain's rule: every landmark in mazes, the goal alone in MiniGrid); with
        ``until_reached``, every rollout stops once one of them has reached ``goal`` first
        (those unfinished count as not reaching it: a search that needs one valid candidate
        needs no more)."""
        ...

    def first_move_toward(self, state: Any, goal: str) -> int | None:
        """The action that starts the shortest way to ``goal`` (None: unreachable or absent),
        the stand-in gradient methods are steered by."""
        ...

    def has_landmark(self, state: Any, goal: str) -> bool:
        """Whether ``goal`` exists on ``state`` (a level may have no sign)."""
        ...


@dataclass(frozen=True)
class Fork:
    """Where the shortest ways to two landmarks part.

    Attributes:
        state: the state with the agent at the last place the two ways share.
        to_goal, to_proxy: the action that starts each way there.
    """

    state: Any
    to_goal: int
    to_proxy: int
    goal_moves: tuple[int, ...] = ()
    proxy_moves: tuple[int, ...] = ()
    """Every action that starts a shortest way to each (ties: turning either way to face
    behind); disjoint at a fork. Empty: just ``to_goal`` / ``to_proxy``."""


@runtime_checkable
class ForkDomain(Protocol):
    """A behaviour domain the goal-misgeneralization audit runs on through this interface alone
    (MiniGrid goal rooms; mazes have their own protocols, older and richer)."""

    goal_edit_kinds: ClassVar[tuple[str, ...]]
    """Edit kinds that move the goal itself, which a redirect search must leave alone."""

    def fork(self, state: Any, goal: str, proxy: str) -> Fork | None:
        """Where the ways to ``goal`` and ``proxy`` part on ``state``; None where they do not
        (either absent, or one on a shortest way to the other)."""
        ...

    def shortest_steps(self, state: Any, landmark: str) -> int | None:
        """Fewest agent steps from ``state`` to ``landmark`` (None: no way)."""
        ...

    def landmark_cells(self, state: Any, landmark: str) -> frozenset[tuple[int, int]]:
        """The squares on which the agent has reached ``landmark`` (empty: none on ``state``)."""
        ...


@runtime_checkable
class GoalPrior(Protocol):
    """A behaviour domain that can rank candidate edits cheaply before they are rolled out."""

    def goal_prior(
        self,
        state: Any,
        candidates: Sequence[Any],
        probs: Callable[[torch.Tensor], torch.Tensor],
        goal: str,
    ) -> tuple[np.ndarray, int]:
        """(a score per candidate edit of ``state``, higher where it more likely sends the
        greedy agent to ``goal``; agent calls spent), at about one agent call per candidate. It
        orders what a search rolls out first; it never decides what is valid."""
        ...
