"""A short text summary of a dataset folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .dataset import Dataset


def summarise(folder: str | Path) -> str:
    """What ``rlwb inspect`` prints: provenance, sizes, actions, values.

    The whole dataset is read through its checksums first, so a folder that inspects clean is
    one that ``fit-generator`` and ``explain --data`` can read.

    Raises:
        DatasetError: the folder is not a dataset, an empty collection, or damaged.
    """
    dataset = Dataset.open(folder)
    dataset.verify()
    m = dataset.manifest
    agent: dict[str, Any] = m["agent"] if isinstance(m.get("agent"), dict) else {}
    arrays = dataset.arrays("action", "value", "episode", "step")
    n = dataset.n_states
    size = sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())
    names = m.get("action_names", [])
    counts = np.bincount(arrays["action"], minlength=len(names)) if n else np.zeros(len(names))
    lines = [
        f"dataset   {Path(folder).resolve()}",
        f"env       {m['env_id']} {m.get('env_kwargs') or ''}".rstrip(),
        f"agent     {agent.get('name', '?')} ({agent.get('path', '?')})",
        f"states    {n:,} in {len(m['shards'])} shard(s), {size / 1e6:.1f} MB",
        f"episodes  {len(np.unique(arrays['episode'])) if n else 0} "
        f"(seed {m.get('seed')}, {'greedy' if m.get('greedy') else 'sampled'} actions)",
        f"obs       {m['obs_dtype']} {m['obs_shape']}",
        f"maze      {'restorable MazeState per row' if dataset.is_maze else 'no env states'}",
        "actions   "
        + ", ".join(f"{name} {c / max(n, 1):.1%}" for name, c in zip(names, counts, strict=False)),
    ]
    values = arrays["value"]
    if n and not np.isnan(values).all():
        lines.append(
            f"value     mean {np.nanmean(values):.3f}, min {np.nanmin(values):.3f}, "
            f"max {np.nanmax(values):.3f}"
        )
    lines.append(f"made by   {m.get('command', '?')} on {m.get('created', '?')}")
    return "\n".join(lines)
