"""Throughput of the maze env, the agent adapter and dataset collection on this machine.

Usage: python benchmarks/maze_throughput.py [--threads 1]
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import rl_workbench  # noqa: F401
from rl_workbench.agents import load_agent
from rl_workbench.data import CollectConfig, collect


def env_steps_per_second(obs_mode: str, steps: int = 20_000) -> float:
    env = gym.make("rlwb/Maze-v0", obs_mode=obs_mode)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 4, steps)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(int(a))
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def forward_per_second(batch: int, repeats: int = 50) -> float:
    agent = load_agent("zoo:maze-uniform").agent
    env = gym.make("rlwb/Maze-v0")
    obs = torch.as_tensor(np.stack([env.reset(seed=i)[0] for i in range(batch)]))
    with torch.no_grad():
        agent.action_probs(obs)
        start = time.perf_counter()
        for _ in range(repeats):
            agent.action_probs(obs)
    return batch * repeats / (time.perf_counter() - start)


def collect_per_second(n: int = 5000) -> float:
    loaded = load_agent("zoo:maze-uniform")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        collect(loaded, Path(tmp) / "ds", CollectConfig(n_states=n), progress=False)
        return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [
        ("env steps/s, symbolic obs (7x7 world)", env_steps_per_second("symbolic")),
        ("env steps/s, RGB 64x64 obs", env_steps_per_second("rgb")),
        ("agent forward, observations/s (batch 1)", forward_per_second(1)),
        ("agent forward, observations/s (batch 256)", forward_per_second(256)),
        ("rlwb collect, states/s (16 envs)", collect_per_second()),
    ]
    print(
        f"Machine: {platform.processor() or platform.machine()}, torch threads {args.threads}, "
        f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}"
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:,.0f} |")


if __name__ == "__main__":
    main()
