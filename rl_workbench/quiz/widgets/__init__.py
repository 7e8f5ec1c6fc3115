"""Widgets of the quiz: a maze, a MiniGrid room, an Atari frame in half-block pixels, a
probability picker."""

from .frame_view import FrameView
from .grid_view import GridView
from .maze_view import MazeView
from .prob_picker import ProbabilityPicker
from .title_bar import TitleBar

__all__ = ["FrameView", "GridView", "MazeView", "ProbabilityPicker", "TitleBar"]
