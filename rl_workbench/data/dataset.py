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

Shards and the manifest are written atomically (temporary file, fsync, ``os.replace``) and the
manifest is rewritten only after the shard it names is on disk, so a collection killed at any
moment leaves a valid, smaller dataset, or, before its first shard, an empty collection that
:meth:`Dataset.open` reports as such. Opening checks the manifest and every shard's arrays and
row counts, so a damaged folder is refused with one message before any work starts.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from rl_workbench.envs.maze import ARRAY_FIELDS, MazeState
from rl_workbench.errors import DatasetError
from rl_workbench.outputs import pause_for_tests

if TYPE_CHECKING:
    from rl_workbench.agents import LoadedAgent

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

MAZE_FIELDS: dict[str, str] = ARRAY_FIELDS
"""Extra arrays for maze datasets: the restorable env state of every row (each domain names its
own: ``Domain.dataset_fields``)."""

REQUIRED_KEYS: dict[str, type] = {
    "format": str,
    "version": int,
    "env_id": str,
    "obs_shape": list,
    "obs_dtype": str,
    "has_maze_states": bool,
    "shards": list,
}
"""Manifest keys every reader relies on, with their JSON types (the rest is provenance)."""

COLLECT_COMMAND = "rlwb collect --agent REF --n-states N --out DIR"
"""The generic command that makes a dataset, for messages about manifests that name none."""

_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
"""What numpy and zipfile raise on a truncated, garbled or tampered ``.npz`` file."""


def _recorded_command(manifest: Any) -> str:
    """The command that made the dataset, as its manifest records it (or the generic one)."""
    command = manifest.get("command") if isinstance(manifest, dict) else None
    if isinstance(command, str) and command.startswith("rlwb ") and "collect" in command:
        return command
    return COLLECT_COMMAND  # library callers record their own argv, not a command to rerun


def _recollect(folder: Path, manifest: Any = None) -> str:
    """The fix for a damaged dataset: collect it again into a fresh folder."""
    return f"Delete {folder} and collect it again: `{_recorded_command(manifest)}`."


def _is_leftover(path: Path) -> bool:
    """Files an interrupted collection may leave beside no manifest (temporary, hidden)."""
    return path.name.endswith(".tmp") or path.name.startswith(".")


def _array_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Each array's shape in an ``.npz``, read from the headers alone (no full decompression).

    Raises:
        DatasetError: the file is not a readable ``.npz`` (truncated, garbled, pickled).
    """
    shapes: dict[str, tuple[int, ...]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as fh:
                    version = npy_format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, _ = npy_format.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        shape, _, _ = npy_format.read_array_header_2_0(fh)
                    else:
                        shape = npy_format.read_array(fh, allow_pickle=False).shape
                shapes[member.removesuffix(".npy")] = tuple(shape)
    except _READ_ERRORS as exc:
        raise DatasetError(
            f"{path.parent} has a damaged shard: {path.name} cannot be read "
            f"({exc.__class__.__name__}: {exc}). " + _recollect(path.parent)
        ) from None
    return shapes


def _check_manifest(folder: Path, manifest: Any) -> None:
    """Refuse a manifest that is not an object or lacks a key or shard entry readers rely on."""
    path = folder / MANIFEST
    if not isinstance(manifest, dict):
        kind = "a list" if isinstance(manifest, list) else type(manifest).__name__
        raise DatasetError(
            f"{path} is {kind}, not a JSON object as collect writes it. " + _recollect(folder)
        )
    for key, json_type in REQUIRED_KEYS.items():
        if key not in manifest:
            raise DatasetError(f"{path} lacks the key {key!r}. " + _recollect(folder, manifest))
        if key not in ("format", "version") and not isinstance(manifest[key], json_type):
            raise DatasetError(
                f"{path} has {key!r} = {manifest[key]!r}, not a JSON {json_type.__name__}. "
                + _recollect(folder, manifest)
            )
    if manifest["format"] != FORMAT:
        raise DatasetError(
            f"{path} is not an rlwb dataset manifest (format {manifest['format']!r}). "
            + _recollect(folder)
        )
    if manifest["version"] != VERSION:
        raise DatasetError(
            f"{path} has format version {manifest['version']!r}; this workbench reads "
            f"version {VERSION}. Re-collect it with this version: "
            f"`{_recorded_command(manifest)}`."
        )
    for i, shard in enumerate(manifest["shards"]):
        name, n = (shard.get("file"), shard.get("n")) if isinstance(shard, dict) else (None, None)
        if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name:
            raise DatasetError(
                f"{path}: shards[{i}] is {shard!r}, not an entry naming a shard file in the "
                "folder. " + _recollect(folder, manifest)
            )
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise DatasetError(
                f"{path}: shards[{i}] ({name}) has n = {n!r}, not a positive row count. "
                + _recollect(folder, manifest)
            )


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
        """Open a dataset folder and check it whole, so damage is reported before any work.

        The manifest must be a JSON object with every key in :data:`REQUIRED_KEYS`; each shard
        it lists must be a readable ``.npz`` in the folder holding every field, each with the
        listed number of rows. Only array headers are read here; :meth:`verify` reads the data.

        Raises:
            DatasetError: the folder holds no dataset, an empty collection (killed before its
                first shard; rerun collect), or a damaged one; the message names the file, what
                is wrong and the fix.
        """
        folder = Path(folder)
        path = folder / MANIFEST
        if not path.is_file():
            if folder.is_dir() and all(_is_leftover(p) for p in folder.iterdir()):
                raise DatasetError(
                    f"{folder} is an empty collection: it has no {MANIFEST} yet (the collection "
                    "stopped before writing one); rerun "
                    f"`rlwb collect --agent REF --n-states N --out {folder}`."
                )
            raise DatasetError(
                f"{folder} is not a dataset: it has no {MANIFEST}. Make one with "
                f"`{COLLECT_COMMAND}`."
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DatasetError(
                f"{path} is not valid JSON ({exc.__class__.__name__}: {exc}). " + _recollect(folder)
            ) from None
        _check_manifest(folder, manifest)
        if not manifest["shards"]:
            raise DatasetError(
                f"{folder} is an empty collection: it holds no states yet (the collection "
                f"stopped before its first shard was saved); rerun "
                f"`{_recorded_command(manifest)}`, which refills the folder."
            )
        recorded = manifest.get("fields")
        fields = {
            **FIELDS,
            **(MAZE_FIELDS if manifest["has_maze_states"] else {}),
            **(recorded if isinstance(recorded, dict) else {}),  # a domain's state arrays
        }
        for shard in manifest["shards"]:
            file = folder / shard["file"]
            if not file.is_file():
                raise DatasetError(
                    f"{folder} is incomplete: shard {shard['file']} is missing. "
                    + _recollect(folder, manifest)
                )
            shapes = _array_shapes(file)
            for key in fields:
                if key not in shapes:
                    raise DatasetError(
                        f"{folder} has a damaged shard: {shard['file']} has no array {key!r} "
                        f"(it has {sorted(shapes)}). " + _recollect(folder, manifest)
                    )
                rows = shapes[key][0] if shapes[key] else None
                if rows != shard["n"]:
                    raise DatasetError(
                        f"{folder} has a damaged shard: {shard['file']} holds {rows} rows of "
                        f"{key!r} but {MANIFEST} lists {shard['n']}. "
                        + _recollect(folder, manifest)
                    )
        return cls(folder=folder, manifest=manifest)

    def verify(self) -> None:
        """Read every shard's data through its checksums (what ``rlwb inspect`` promises).

        :meth:`open` reads headers only; a bit flipped inside compressed data shows up here.

        Raises:
            DatasetError: a shard's data does not match its checksum or cannot be inflated.
        """
        for shard in self.manifest["shards"]:
            path = self.folder / shard["file"]
            try:
                with zipfile.ZipFile(path) as archive:
                    bad = archive.testzip()
            except _READ_ERRORS as exc:
                bad = f"{exc.__class__.__name__}: {exc}"
            if bad is not None:
                raise DatasetError(
                    f"{self.folder} has a damaged shard: {shard['file']} fails its checksum "
                    f"({bad}). " + _recollect(self.folder, self.manifest)
                )

    @property
    def n_states(self) -> int:
        return int(sum(s["n"] for s in self.manifest["shards"]))

    @property
    def is_maze(self) -> bool:
        return bool(self.manifest.get("has_maze_states"))

    def shards(self) -> Iterator[dict[str, np.ndarray]]:
        """Each shard's arrays in order."""
        for shard in self.manifest["shards"]:
            try:
                with np.load(self.folder / shard["file"], allow_pickle=False) as data:
                    arrays = {k: data[k] for k in data.files}
            except _READ_ERRORS as exc:
                raise DatasetError(
                    f"{self.folder} has a damaged shard: {shard['file']} cannot be read "
                    f"({exc.__class__.__name__}: {exc}). " + _recollect(self.folder, self.manifest)
                ) from None
            yield arrays

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
        return self.states()

    def states(self) -> list[Any]:
        """Every row's state as the workbench edits it, read by the env's domain (maze levels,
        Atari frame stacks).

        Raises:
            DatasetError: the env's family has no domain (e.g. MiniGrid observations).
        """
        from rl_workbench.domains.registry import domain_for
        from rl_workbench.errors import InvalidArgumentError, UnknownNameError

        env_id = self.manifest["env_id"]
        try:
            domain = domain_for(env_id, self.manifest.get("env_kwargs"))
        except (InvalidArgumentError, UnknownNameError):
            raise DatasetError(
                f"{self.folder} holds {env_id} observations; states are read for maze (rlwb/*) "
                "and Atari (ALE/*) datasets."
            ) from None
        return domain.states_from_arrays(self.arrays(*domain.dataset_arrays))


class DatasetWriter:
    """Append rows and flush them as shards; the manifest always describes what is on disk.

    Every file is written to a temporary name, fsynced and renamed into place, and the manifest
    names a shard only after the shard itself is in place: a kill (or power loss) at any moment
    leaves a manifest whose every shard is whole.
    """

    def __init__(self, folder: Path, manifest: dict[str, Any], shard_size: int = 5000) -> None:
        self.folder = Path(folder)
        if (self.folder / MANIFEST).exists() and not _is_empty_collection(self.folder):
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
        _write_atomically(
            self.folder / name,
            lambda fh: np.savez_compressed(fh, **{k: np.stack(v) for k, v in self._rows.items()}),  # type: ignore[arg-type]
        )
        self.manifest["shards"].append({"file": name, "n": self._n})
        self._rows, self._n = {}, 0
        self._write_manifest()

    def _write_manifest(self) -> None:
        text = json.dumps(self.manifest, indent=2, sort_keys=True) + "\n"
        _write_atomically(self.folder / MANIFEST, lambda fh: fh.write(text.encode("utf-8")))


def _is_empty_collection(folder: Path) -> bool:
    """Whether ``folder``'s manifest is one of ours listing no shard (a collection killed before
    its first shard), which a rerun of collect may refill."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(manifest, dict)
        and manifest.get("format") == FORMAT
        and not manifest.get("shards")
    )


def _write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` via a temporary file, fsync it, rename it into place, fsync the folder.

    Readers see the old file or the whole new one, never a part, whatever kills the writer.
    """
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    pause_for_tests(path.name)  # the reliability suite kills the writer exactly here
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # folders cannot be opened on some platforms; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_dataset_matches(dataset: Dataset, loaded: LoadedAgent) -> None:
    """Refuse a dataset whose observations are not the ones the agent sees.

    Checked before any work, because a mismatch otherwise surfaces as a shape error deep in a
    forward pass, or not at all (every Atari game has [4, 84, 84] stacks). Maze ids share one
    observation format, so a maze dataset fits a maze agent of the same world size whatever
    level distribution it came from; other families must match the env id too.

    Raises:
        DatasetError: another env family or game, or another observation shape or dtype.
    """
    from rl_workbench.domains.registry import states_interchange

    m = dataset.manifest
    space = loaded.agent.observation_space
    agent_obs = f"{list(space.shape)} {space.dtype}"
    data_obs = f"{list(m['obs_shape'])} {m['obs_dtype']}"
    same_env = m["env_id"] == loaded.env_id or states_interchange(m["env_id"], loaded.env_id)
    if same_env and agent_obs == data_obs:
        return
    kwargs = "".join(
        f" --env-arg {k}={json.dumps(v)}" for k, v in sorted((loaded.env_kwargs or {}).items())
    )
    raise DatasetError(
        f"{dataset.folder} was collected on {m['env_id']} (observations {data_obs}) but the "
        f"agent {loaded.path} runs on {loaded.env_id} (observations {agent_obs}). Collect one "
        f"for this agent: `rlwb collect --agent {loaded.path} --env {loaded.env_id}{kwargs} "
        "--out DIR`."
    )
