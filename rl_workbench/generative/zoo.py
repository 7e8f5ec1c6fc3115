"""The shipped maze generator and how it is rebuilt: collect levels, then fit.

``rlwb zoo build maze-generator`` collects 60,000 states of ``zoo:maze-uniform`` playing
``rlwb/Maze-v0`` (cheese anywhere, so the generator covers every cheese position; corner levels
are a subset) and fits a 3-level UNet on the distinct levels among them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rl_workbench.errors import AgentLoadError

from .atari_generator import AtariGenerator
from .fit import FitConfig, fit_generator, load_generator_folder
from .folder import GENERATOR_FILE
from .maze_generator import MazeGenerator

GENERATOR_ZOO_DIR = Path(__file__).parent / "zoo"
ZOO_GENERATORS = ("maze-generator",)
SOURCE_AGENT = "zoo:maze-uniform"
COLLECT_STATES = 60_000
FIT = FitConfig(steps=6000, batch_size=64, seed=0)


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


def load_generator(ref: str | Path) -> MazeGenerator | AtariGenerator:
    """Load a generator folder (maze or Atari) by path or ``zoo:NAME``."""
    return load_generator_folder(resolve_generator(ref))


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
    write_card(generator, folder)
    return generator


def write_card(generator: MazeGenerator, folder: Path) -> None:
    """The generator's model card: how it was made and how good its samples are."""
    import json

    fit = json.loads((folder / "fit.json").read_text())
    quality = generator.sample_quality(n=500, steps=20, seed=0)
    (folder / "quality.json").write_text(json.dumps(quality, indent=2) + "\n")
    params = sum(p.numel() for p in generator.unet.parameters())
    lines = [
        "# Model card: maze-generator",
        "",
        "A diffusers `UNet2DModel` (no attention, block widths "
        f"{fit['config']['block_out_channels']}, {params:,} parameters) with a DDIM scheduler, "
        "modelling maze levels as the agents see them (6 one-hot channels, padded to "
        f"{generator.spec.padded_size}x{generator.spec.padded_size}).",
        "",
        "| field | value |",
        "|---|---|",
        "| rebuild with | `rlwb zoo build maze-generator` |",
        f"| training levels | {fit['training_levels']:,} distinct levels among {COLLECT_STATES:,} "
        f"states of `{SOURCE_AGENT}` on `{generator.spec.env_id}` (collect seed 0) |",
        f"| fit | {fit['config']['steps']:,} steps, batch {fit['config']['batch_size']}, "
        f"lr {fit['config']['learning_rate']}, seed {fit['config']['seed']} |",
        f"| fit time | {fit['seconds'] / 60:.1f} min |",
        f"| final noise loss | {fit['final_loss']:.4f} |",
        f"| samples on-distribution before repair | {quality['raw_on_distribution']:.1%} "
        f"(500 samples from noise, {quality['steps']} DDIM steps, seed 0) |",
        f"| samples on-distribution after decode | {quality['decoded_on_distribution']:.1%} |",
        f"| distinct raw samples | {quality['distinct_fraction']:.1%} |",
        "",
        '"Before repair" reads each sample cell by cell (strongest terrain channel; mouse, '
        "cheese and sign at their maxima) and asks whether the level generator could have made "
        "it: a perfect maze on procgen's lattice with mouse and cheese on distinct free cells. "
        "`decode` then projects every sample onto the nearest such level.",
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines))
