"""``?``: every key of the quiz, on top of whatever screen is showing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Keys[/b]
  enter        submit / continue             ?      this help
  1-9, ↑ ↓     choose an action              q      quit (answers are already saved)
  + -          more / less sure (sure mode) or move probability (spread mode)
  s            switch sure / spread mode
[b]Building a level[/b] (construct items)
  ← ↑ → ↓ or click   move the cursor         c      put the cheese here
  w                  open / close a passage  g      put the sign here
  u                  undo the last edit      r      undo every edit
  (rooms are always open and pillars always wall, as in procgen's mazes)
[b]Frames[/b] (Atari items)
  f            show the next of the four frames (oldest to newest)
[b]Spot the flawed agent[/b]
  a b          which agent is flawed          1 2 3  what it cannot see
Every answer is written to the database the moment you give it; quitting and running the
same command again resumes where you stopped."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,enter", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(HELP)
