"""Pictures and written reports shared by the commands (PNG, Markdown, JSON)."""

from .figures import draw_path, draw_vector_field, maze_image, titled_row
from .writer import ReportWriter

__all__ = ["ReportWriter", "draw_path", "draw_vector_field", "maze_image", "titled_row"]
