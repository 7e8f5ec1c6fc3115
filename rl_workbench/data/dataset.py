"""The dataset format: ``.npz`` shards plus a JSON manifest, readable with numpy alone.

A dataset folder looks like::

    manifest.json        what made it and what each array means (see FIELDS)
    shard-00000.npz      arrays of the first shard, one row per state
    shard-00001.npz      ...

Read it without the workbench::

    import json, numpy as np
    manifest = json.load(open("DIR/manifest.json"))
    shards = [np.load(f"DIR/{s['file']}") for s in manifest["shards"]]
    obs = np.concatenate([s["obs"] for s in shards])

Shards are written atomically and the manifest is rewritten after each one, so an interrupted
collection leaves a valid, smaller dataset.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rl_workbench.envs.maze import MazeState
from rl_workbench.errors import DatasetError

FORMAT = "rlwb-dataset"
VERSION = 1
MANIFEST = "manifest.json"

FIELDS: dict[str, str] = {
    "obs": "the observation the agent saw, exactly as the env emitted it [N, *obs_shape]",
    "action": "the action the agent took [N] (int64)",
    "probs": "the agent's action distribution on obs [N, A] (float32)",
    "value": "the agent's value estimate on obs [N] (float32; NaN without a critic)",
    "episode": "episode index within the dataset [N] (int64); episode e was reset with seed+e",
    "step": "step within the episode [N] (int64), 0 at reset",
}
"""Arrays present in every dataset."""

MAZE_FIELDS: dict[str, str] = {
    "walls": "maze walls [N, W, W] (bool): with the four fields below, a MazeState",
    "maze_size": "maze side [N] (int64)",
    "mouse": "mouse (row, col) [N, 2] (int64)",
    "cheese": "cheese (row, col) [N, 2] (int64)",
    "sign": "sign (row, col) [N, 2] (int64); (-1, -1) when the level has no sign",
}
"""Extra arrays for maze datasets: the restorable env state of every row."""


@dataclass(frozen=True)
class Dataset:
    """An opened dataset: its manifest and lazily loaded arrays.

    Attributes:
        folder: where it lives.
        manifest: the parsed manifest.json.
    """

    folder: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, folder: str | Path) -> Dataset:
        """Open and validate a dataset folder."""
        folder = Path(folder)
        path = folder / MANIFEST
        if not path.is_file():
            raise DatasetError(
                f"{folder} is not a dataset: it has no {MANIFEST}. Make one with "
                "`rlwb collect --agent REF --n-states N --out DIR`."
            )
        try:
            manifest = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} is not valid JSON ({exc}).") from None
        if manifest.get("format") != FORMAT:
            raise DatasetError(
                f"{path} is not an rlwb dataset manifest (format {manifest.get('format')!r})."
            )
        if manifest.get("version") != VERSION:
            raise DatasetError(
                f"{path} has format version {manifest.get('version')!r}; this workbench reads "
                f"version {VERSION}. Re-collect it with this version."
            )
        for shard in manifest.get("shards", []):
            if not (folder / shard["file"]).is_file():
                raise DatasetError(f"{folder} is incomplete: shard {shard['file']} is missing.")
        return cls(folder=folder, manifest=manifest)

    @property
    def n_states(self) -> int:
        return int(sum(s["n"] for s in self.manifest["shards"]))

    @property
    def is_maze(self) -> bool:
        return bool(self.manifest.get("has_maze_states"))

    def shards(self) -> Iterator[dict[str, np.ndarray]]:
        """Each shard's arrays in order."""
        for shard in self.manifest["shards"]:
            with np.load(self.folder / shard["file"], allow_pickle=False) as data:
                yield {k: data[k] for k in data.files}

    def arrays(self, *names: str) -> dict[str, np.ndarray]:
        """The named arrays (all when none are named), concatenated over shards."""
        parts: dict[str, list[np.ndarray]] = {}
        for shard in self.shards():
            for key in names or shard.keys():
                if key not in shard:
                    raise DatasetError(
                        f"{self.folder} has no array {key!r}; it has {sorted(shard)}."
                    )
                parts.setdefault(key, []).append(shard[key])
        return {k: np.concatenate(v) for k, v in parts.items()}

    def maze_states(self) -> list[MazeState]:
        """The restorable maze state of every row (maze datasets only)."""
        if not self.is_maze:
            raise DatasetError(
                f"{self.folder} holds no maze states (env {self.manifest['env_id']})."
            )
        a = self.arrays("walls", "maze_size", "mouse", "cheese", "sign")
        return [
            MazeState(
                walls=a["walls"][i],
                maze_size=int(a["maze_size"][i]),
                mouse=tuple(a["mouse"][i]),
                cheese=tuple(a["cheese"][i]),
                sign=None if a["sign"][i][0] < 0 else tuple(a["sign"][i]),
            )
            for i in range(len(a["walls"]))
        ]

    def states(self) -> list[Any]:
        """Every row's state as the workbench edits it: maze levels, or Atari frame stacks."""
        if self.is_maze:
            return self.maze_states()
        if self.manifest["env_id"].startswith("ALE/"):
            from rl_workbench.domains.atari import AtariState

            return [AtariState(o) for o in self.arrays("obs")["obs"]]
        raise DatasetError(
            f"{self.folder} holds {self.manifest['env_id']} observations; states are read for "
            "maze (rlwb/*) and Atari (ALE/*) datasets."
        )


class DatasetWriter:
    """Append rows and flush them as shards; the manifest always describes what is on disk."""

    def __init__(self, folder: Path, manifest: dict[str, Any], shard_size: int = 5000) -> None:
        self.folder = Path(folder)
        if (self.folder / MANIFEST).exists():
            raise DatasetError(
                f"{self.folder} already holds a dataset; choose another --out or delete it first."
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.manifest = {"format": FORMAT, "version": VERSION, **manifest, "shards": []}
        self.shard_size = shard_size
        self._rows: dict[str, list[np.ndarray]] = {}
        self._n = 0
        self._write_manifest()

    def add(self, **row: np.ndarray) -> None:
        for key, value in row.items():
            self._rows.setdefault(key, []).append(
                np.array(value, copy=True)
            )  # callers reuse buffers
        self._n += 1
        if self._n >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        if not self._n:
            return
        name = f"shard-{len(self.manifest['shards']):05d}.npz"
        tmp = self.folder / (name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **{k: np.stack(v) for k, v in self._rows.items()})
        os.replace(tmp, self.folder / name)
        self.manifest["shards"].append({"file": name, "n": self._n})
        self._rows, self._n = {}, 0
        self._write_manifest()

    def _write_manifest(self) -> None:
        tmp = self.folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(self.manifest, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.folder / MANIFEST)
