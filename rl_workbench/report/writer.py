"""A report folder: ``report.json`` (with config and versions), ``report.md`` and PNGs."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image


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

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def text(self, *lines: str) -> None:
        """Append Markdown lines."""
        self._lines.extend(lines)

    def image(self, name: str, image: Image.Image, caption: str = "") -> Path:
        """Save a PNG into the folder and reference it from the Markdown."""
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        self._lines += [f"![{caption or name}]({name})", ""]
        return path

    def animation(
        self, name: str, frames: list[Image.Image], caption: str = "", ms_per_frame: int = 400
    ) -> Path:
        """Save an animated GIF (looping) into the folder and reference it from the Markdown."""
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
        self._lines += [f"![{caption or name}]({name})", ""]
        return path

    def write(self, config: dict[str, Any], versions: dict[str, str]) -> Path:
        """Write report.json and report.md; returns the folder."""
        payload = {
            "title": self.title,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": config,
            "versions": versions,
            **self.data,
        }
        (self.folder / "report.json").write_text(
            json.dumps(_jsonable(payload), indent=2, sort_keys=True) + "\n"
        )
        (self.folder / "report.md").write_text(
            "\n".join([f"# {self.title}", "", *self._lines]) + "\n"
        )
        return self.folder
