"""The shipped maze generator and how it is rebuilt: collect levels, then fit.

``rlwb zoo build maze-generator`` collects 20,000 states of ``zoo:maze-uniform`` playing
``rlwb/Maze-v0`` (cheese anywhere, so the generator covers every cheese position; corner levels
are a subset) and fits a 3-level UNet on the distinct levels among them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rl_workbench.errors import AgentLoadError

from .fit import FitConfig, fit_generator
from .maze_generator import GENERATOR_FILE, MazeGenerator

GENERATOR_ZOO_DIR = Path(__file__).parent / "zoo"
ZOO_GENERATORS = ("maze-generator",)
SOURCE_AGENT = "zoo:maze-uniform"
COLLECT_STATES = 20_000
FIT = FitConfig(steps=3000, batch_size=64, seed=0)


def resolve_generator(ref: str | Path) -> Path:
    """The folder behind ``zoo:maze-generator`` or a path."""
    text = str(ref)
    if text.startswith("zoo:"):
        name = text[4:]
        folder = GENERATOR_ZOO_DIR / name
        if name not in ZOO_GENERATORS or not (folder / GENERATOR_FILE).is_file():
            raise AgentLoadError(
                f"No shipped generator {text!r}. Shipped: {', '.join(ZOO_GENERATORS)}; build it "
                "with `rlwb zoo build maze-generator`."
            )
        return folder
    return Path(text)


def load_generator(ref: str | Path) -> MazeGenerator:
    return MazeGenerator.from_pretrained(resolve_generator(ref))


def build_zoo_generator(out: Path | None = None, *, progress: bool = True) -> MazeGenerator:
    """Collect levels with the uniform zoo agent and fit the shipped generator."""
    from rl_workbench.agents import load_agent
    from rl_workbench.data import CollectConfig, collect

    folder = Path(out) if out is not None else GENERATOR_ZOO_DIR / "maze-generator"
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "levels"
        collect(
            load_agent(SOURCE_AGENT),
            data,
            CollectConfig(n_states=COLLECT_STATES, seed=0),
            progress=progress,
        )
        generator = fit_generator(data, folder, FIT, progress=progress, resume=False)
    shutil.rmtree(folder / "checkpoint", ignore_errors=True)
    return generator
