"""One episode of an agent in a maze, with every state it passed through."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rl_workbench.agents import Agent, choose_actions
from rl_workbench.envs.maze import MazeEnv, MazeState


@dataclass(frozen=True)
class Trajectory:
    """What happened in one episode.

    Attributes:
        states: the level at every step, from reset to the last state (len = steps + 1).
        actions: the action taken at each step.
        probs: the agent's distribution at each step [steps, A].
        got_cheese: whether the episode ended on the cheese.
        reached_corner: whether the mouse stood on the top-right corner at some point.
        optimal_steps: BFS moves from start to cheese.
    """

    states: list[MazeState]
    actions: list[int]
    probs: np.ndarray
    got_cheese: bool
    reached_corner: bool
    optimal_steps: int

    @property
    def steps(self) -> int:
        return len(self.actions)

    @property
    def path(self) -> list[tuple[int, int]]:
        """The mouse's cell at every step."""
        return [s.mouse for s in self.states]


def run_episode(
    agent: Agent,
    env: MazeEnv,
    *,
    seed: int | None = None,
    state: MazeState | None = None,
    rng: np.random.Generator | None = None,
) -> Trajectory:
    """Play one episode from a seed or an exact state; greedy unless ``rng`` is given."""
    options = {"state": state} if state is not None else None
    obs, info = env.reset(seed=seed, options=options)
    states = [env.get_state()]
    actions: list[int] = []
    probs: list[np.ndarray] = []
    done = False
    while not done:
        p, _ = agent.evaluate_batch(obs)
        action = int(choose_actions(p, rng)[0])
        obs, _, terminated, truncated, info = env.step(action)
        actions.append(action)
        probs.append(p[0])
        states.append(env.get_state())
        done = terminated or truncated
    return Trajectory(
        states=states,
        actions=actions,
        probs=np.stack(probs) if probs else np.zeros((0, agent.n_actions)),
        got_cheese=bool(info["got_cheese"]),
        reached_corner=bool(info["reached_corner"]),
        optimal_steps=int(info["optimal_steps"]),
    )
