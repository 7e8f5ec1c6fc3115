"""A report folder: ``report.json`` (with config and versions), ``report.md`` and PNGs.

A rerun into the same folder must not leave the last run's pictures behind (an ``explain --n 3``
after an ``explain --n 10`` would otherwise show ten items beside a report of three). The writer
therefore records every file it writes in ``FOLDER/.rlwb-files`` as it writes it, and when the
new report is complete it deletes the files the previous runs recorded that this run did not
write. Only files the writer itself recorded are ever deleted: a user's own files in the folder,
and anything outside it, are left alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from rl_workbench.outputs import write_text_atomically

FILES_MANIFEST = ".rlwb-files"
"""The names (relative to the folder) of every file report writers wrote there, one a line."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


@dataclass
class ReportWriter:
    """Collects Markdown, pictures and data, then writes them into one folder.

    Attributes:
        folder: the report folder (created).
        title: the Markdown title.
        data: what goes into report.json besides the metadata.
    """

    folder: Path
    title: str
    data: dict[str, Any] = field(default_factory=dict)
    _lines: list[str] = field(default_factory=list)
    _written: list[str] = field(default_factory=list)
    _previous: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / FILES_MANIFEST
        if manifest.is_file():
            names = manifest.read_text(encoding="utf-8", errors="replace").splitlines()
            self._previous = [n for n in dict.fromkeys(names) if self._inside(n)]

    def _inside(self, name: str) -> bool:
        """Whether ``name`` is a plain relative path inside the folder (a tampered manifest
        must never make the writer delete anything else)."""
        path = Path(name)
        if not name or path.is_absolute() or ".." in path.parts:
            return False
        return (self.folder / path).resolve().is_relative_to(self.folder.resolve())

    def track(self, name: str) -> Path:
        """Record that this run writes ``name`` (relative to the folder) and return its path.

        Callers that write files themselves (e.g. ``.npz`` arrays) use this so a later rerun can
        clear them; :meth:`image` and :meth:`animation` call it for their files.
        """
        if name not in self._written:
            self._written.append(name)
            with open(self.folder / FILES_MANIFEST, "a", encoding="utf-8") as fh:
                fh.write(name + "\n")  # recorded before it exists: a crash cannot hide it
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def text(self, *lines: str) -> None:
        """Append Markdown lines."""
        self._lines.extend(lines)

    def image(self, name: str, image: Image.Image, caption: str = "") -> Path:
        """Save a PNG into the folder and reference it from the Markdown."""
        path = self.track(name)
        image.save(path)
        self._lines += [f"![{caption or name}]({name})", ""]
        return path

    def animation(
        self, name: str, frames: list[Image.Image], caption: str = "", ms_per_frame: int = 400
    ) -> Path:
        """Save an animated GIF (looping) into the folder and reference it from the Markdown."""
        path = self.track(name)
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
        self._lines += [f"![{caption or name}]({name})", ""]
        return path

    def write(self, config: dict[str, Any], versions: dict[str, str]) -> Path:
        """Write report.json and report.md, then clear the previous runs' stale files.

        Returns:
            The folder.
        """
        payload = {
            "title": self.title,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": config,
            "versions": versions,
            **self.data,
        }
        write_text_atomically(
            self.folder / "report.json",
            json.dumps(_jsonable(payload), indent=2, sort_keys=True) + "\n",
        )
        write_text_atomically(
            self.folder / "report.md", "\n".join([f"# {self.title}", "", *self._lines]) + "\n"
        )
        self._clear_stale()
        return self.folder

    def _clear_stale(self) -> None:
        """Delete what earlier runs recorded and this one did not write, then record only this
        run's files (empty subfolders the stale files leave, such as ``items/``, go too)."""
        for name in self._previous:
            if name in self._written:
                continue
            path = self.folder / name
            if path.is_file() or path.is_symlink():
                path.unlink()
            parent = path.parent
            while parent != self.folder and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        write_text_atomically(
            self.folder / FILES_MANIFEST, "".join(name + "\n" for name in self._written)
        )
