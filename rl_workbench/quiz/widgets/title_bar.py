"""The top line: app title, deck and person. A plain widget (not Textual's Header, whose
deferred title update fails when a screen is replaced right after it mounts)."""

from __future__ import annotations

from textual.widgets import Static


class TitleBar(Static):
    DEFAULT_CSS = "TitleBar { height: 1; background: $primary; color: $text; text-style: bold; }"

    def on_mount(self) -> None:
        self.update(f" {self.app.title} · {self.app.sub_title}")
