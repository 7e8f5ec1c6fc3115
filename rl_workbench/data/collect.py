"""Roll an agent out and keep what it saw: observations, actions, distributions, values, states."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rl_workbench.agents import LoadedAgent, choose_actions, library_versions
from rl_workbench.domains import make_env
from rl_workbench.domains.registry import domain_for, has_domain
from rl_workbench.errors import InvalidArgumentError

from .dataset import FIELDS, Dataset, DatasetWriter


@dataclass(frozen=True)
class CollectConfig:
    """Settings of one collection run.

    Attributes:
        n_states: rows to keep.
        seed: episode e is reset with ``seed + e``; action sampling uses ``default_rng(seed)``.
        greedy: act by argmax instead of sampling from the policy.
        n_envs: episodes stepped together (one batched forward pass per step).
        shard_size: rows per ``.npz`` shard.
    """

    n_states: int = 10_000
    seed: int = 0
    greedy: bool = False
    n_envs: int = 16
    shard_size: int = 5000

    def __post_init__(self) -> None:
        if self.n_states < 1:
            raise InvalidArgumentError(f"n_states must be positive, got {self.n_states}.")
        if self.n_envs < 1 or self.shard_size < 1:
            raise InvalidArgumentError("n_envs and shard_size must be positive.")


def collect(
    loaded: LoadedAgent, out: Path, config: CollectConfig, *, progress: bool = True
) -> Dataset:
    """Collect ``config.n_states`` rows into the dataset folder ``out`` and return it opened."""
    agent = loaded.agent
    rng = np.random.default_rng(config.seed)
    envs = [make_env(loaded.env_id, loaded.env_kwargs) for _ in range(config.n_envs)]
    # each row keeps its restorable state in the domain's arrays (none where obs is the state)
    domain = domain_for(loaded.env_id, loaded.env_kwargs) if has_domain(loaded.env_id) else None
    is_maze = domain is not None and domain.family == "maze"
    writer = DatasetWriter(
        Path(out),
        {
            "env_id": loaded.env_id,
            "env_kwargs": loaded.env_kwargs,
            "agent": {"path": str(loaded.path), "name": loaded.name},
            "action_names": list(agent.action_names),
            "obs_shape": list(agent.observation_space.shape),
            "obs_dtype": str(agent.observation_space.dtype),
            "has_maze_states": is_maze,
            "fields": {**FIELDS, **(domain.dataset_fields if domain is not None else {})},
            "seed": config.seed,
            "greedy": config.greedy,
            "command": " ".join(shlex.quote(a) for a in ["rlwb", *sys.argv[1:]]),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": library_versions(),
        },
        shard_size=config.shard_size,
    )
    next_episode = 0
    episode = np.zeros(config.n_envs, dtype=np.int64)
    step = np.zeros(config.n_envs, dtype=np.int64)
    obs_list = []
    for i, env in enumerate(envs):
        obs_list.append(env.reset(seed=config.seed + next_episode)[0])
        episode[i] = next_episode
        next_episode += 1
    obs = np.stack(obs_list)
    kept = 0
    with tqdm(total=config.n_states, unit="state", desc="collecting", disable=not progress) as bar:
        try:
            while kept < config.n_states:
                probs, values = agent.evaluate_batch(obs)
                actions = choose_actions(probs, None if config.greedy else rng)
                for i, env in enumerate(envs):
                    if kept >= config.n_states:
                        break
                    row = {
                        "obs": obs[i],
                        "action": np.int64(actions[i]),
                        "probs": probs[i].astype(np.float32),
                        "value": np.float32(np.nan if values is None else values[i]),
                        "episode": episode[i],
                        "step": step[i],
                    }
                    if domain is not None:
                        row.update(domain.state_row(domain.state_from_env(env, obs[i])))
                    writer.add(**row)
                    kept += 1
                    o, _, terminated, truncated, _ = env.step(int(actions[i]))
                    step[i] += 1
                    if terminated or truncated:
                        o = env.reset(seed=config.seed + next_episode)[0]
                        episode[i], step[i] = next_episode, 0
                        next_episode += 1
                    obs[i] = o
                bar.update(min(config.n_envs, config.n_states - bar.n))
        finally:
            writer.flush()
            for env in envs:
                env.close()
    return Dataset.open(out)
