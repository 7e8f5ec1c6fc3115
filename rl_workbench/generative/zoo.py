"""The shipped generators and how they are rebuilt: collect states with a zoo agent, then fit.

``rlwb zoo build maze-generator`` collects 60,000 states of ``zoo:maze-uniform`` playing
``rlwb/Maze-v0`` and fits a 3-level UNet on the spanning-tree lattices of the distinct levels
among them; ``maze15-generator`` does the same at procgen's easy scale with ``zoo:maze15-uniform``.
``rlwb zoo build spaceinvaders-generator`` collects 30,000 stacks of ``zoo:spaceinvaders-ppo``
and fits a 4-level UNet and the latent method's autoencoder on them; ``breakout-generator`` does
the same with ``zoo:breakout-ppo``.
``rlwb zoo build spaceinvaders-inpainter`` (and ``breakout-inpainter``, with ``zoo:breakout-ppo``)
collects 30,000 stacks and fits the mask-conditioned inpainting UNet over 32x32 windows that
``diffusion`` edits the game with.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rl_workbench.errors import AgentLoadError

from . import maze_lattice
from .atari_generator import AtariGenerator
from .atari_inpainter import AtariInpainter
from .fit import FitConfig, fit_generator, load_generator_folder
from .fit_autoencoder import AutoencoderFitConfig, fit_autoencoder
from .folder import GENERATOR_FILE
from .maze_generator import MazeGenerator
from .room_generator import RoomGenerator

GENERATOR_ZOO_DIR = Path(__file__).parent / "zoo"


@dataclass(frozen=True)
class GeneratorRecipe:
    """How a shipped generator is rebuilt: whose states, how many, and the fits.

    Attributes:
        name: the zoo name.
        source_agent: the agent whose play supplies the states.
        env_id: the environment it plays (None: the one on its card).
        collect_states: states collected (seed 0, sampled actions).
        fit: the diffusion fit.
        autoencoder: the latent method's autoencoder fit (Atari), or None.
        sample_steps: DDIM steps of the card's samples from noise (mazes).
    """

    name: str
    source_agent: str
    env_id: str | None
    collect_states: int
    fit: FitConfig
    autoencoder: AutoencoderFitConfig | None = None
    sample_steps: int = 20


INPAINTER_FIT = FitConfig(
    steps=4000,
    batch_size=64,
    block_out_channels=(16, 32, 64),
    seed=0,
    checkpoint_every=200,
    inpainting=True,
)
"""Every Atari inpainter's fit: about 35 min on one CPU core."""
WHOLE_STACK_FITS = (FitConfig(steps=2500, seed=0), AutoencoderFitConfig(steps=2000, seed=0))
"""Every Atari whole-stack model's UNet and autoencoder fits: about 80 min on one CPU core."""

MAZE15_STEPS = 16_000

GENERATOR_RECIPES = {
    # Cheese anywhere, so the generator covers every cheese position; corner levels are a subset.
    "maze-generator": GeneratorRecipe(
        "maze-generator",
        "zoo:maze-uniform",
        "rlwb/Maze-v0",
        60_000,
        FitConfig(
            steps=16_000, batch_size=64, block_out_channels=(32, 64, 64), seed=0, cosine_decay=True
        ),
    ),
    # procgen's easy scale: 64 rooms to link into one tree, so a wider UNet, and
    # self-conditioning (without it: 90.4% raw perfect mazes after the same fit; BENCHMARKS.md).
    "maze15-generator": GeneratorRecipe(
        "maze15-generator",
        "zoo:maze15-uniform",
        None,
        40_000,
        FitConfig(
            steps=MAZE15_STEPS,
            batch_size=64,
            block_out_channels=(64, 128, 128),
            seed=0,
            cosine_decay=True,
            self_conditioning=True,
        ),
        # 100 DDIM steps from noise: 96.3% raw perfect mazes over seeds 0-5, 95.7% on seeds 3-5
        # held out from the choice (20 steps: 94.1%, 50: 95.3%; BENCHMARKS.md). More steps give
        # the per-step rounding more chances to settle the rooms' links.
        sample_steps=100,
    ),
    "spaceinvaders-generator": GeneratorRecipe(
        "spaceinvaders-generator", "zoo:spaceinvaders-ppo", None, 30_000, *WHOLE_STACK_FITS
    ),
    # Breakout's: the latent method's autoencoder and the persistence check of the counterfactual
    # benchmark (issue 12, section 5).
    "breakout-generator": GeneratorRecipe(
        "breakout-generator", "zoo:breakout-ppo", None, 30_000, *WHOLE_STACK_FITS
    ),
    "spaceinvaders-inpainter": GeneratorRecipe(
        "spaceinvaders-inpainter", "zoo:spaceinvaders-ppo", None, 30_000, INPAINTER_FIT
    ),
    "breakout-inpainter": GeneratorRecipe(
        "breakout-inpainter", "zoo:breakout-ppo", None, 30_000, INPAINTER_FIT
    ),
}
ZOO_GENERATORS = tuple(GENERATOR_RECIPES)


def resolve_generator(ref: str | Path) -> Path:
    """The folder behind ``zoo:maze-generator`` or a path."""
    text = str(ref)
    if text.startswith("zoo:"):
        name = text[4:]
        folder = GENERATOR_ZOO_DIR / name
        if name not in ZOO_GENERATORS or not (folder / GENERATOR_FILE).is_file():
            raise AgentLoadError(
                f"No shipped generator {text!r}. Shipped: {', '.join(ZOO_GENERATORS)}; build one "
                f"with `rlwb zoo build {name if name in ZOO_GENERATORS else ZOO_GENERATORS[0]}`."
            )
        return folder
    return Path(text)


def load_generator(
    ref: str | Path,
) -> MazeGenerator | AtariGenerator | AtariInpainter | RoomGenerator:
    """Load a generator folder (maze or Atari) by path or ``zoo:NAME``."""
    return load_generator_folder(resolve_generator(ref))


TRAINING_STATES = "training-states"
"""The recipe's collected states, kept in the output folder while a build runs so an interrupted
build resumes without collecting again; removed with the checkpoints at the end."""


def build_zoo_generator(
    name: str = "maze-generator",
    out: Path | None = None,
    *,
    steps: int | None = None,
    resume: bool = True,
    progress: bool = True,
) -> MazeGenerator | AtariGenerator | AtariInpainter | RoomGenerator:
    """Collect states with the recipe's zoo agent, fit the generator (and autoencoder), card it.

    ``steps`` overrides the recipe's fit steps (the card records what ran). With ``resume`` a
    build that was interrupted continues: the collected states and the fit's checkpoint stay in
    the folder until the build ends (the collection is seeded, so a fresh one is the same).
    """
    from rl_workbench.agents import load_agent
    from rl_workbench.data import CollectConfig, Dataset, collect
    from rl_workbench.errors import DatasetError

    recipe = GENERATOR_RECIPES[name]
    fit_config = recipe.fit if steps is None else replace(recipe.fit, steps=steps)
    folder = Path(out) if out is not None else GENERATOR_ZOO_DIR / name
    data = folder / TRAINING_STATES
    try:
        whole = resume and Dataset.open(data).n_states == recipe.collect_states
    except DatasetError:
        whole = False
    if not whole:
        shutil.rmtree(data, ignore_errors=True)
        collect(
            load_agent(recipe.source_agent, recipe.env_id),
            data,
            CollectConfig(n_states=recipe.collect_states, seed=0),
            progress=progress,
        )
    generator = fit_generator(data, folder, fit_config, progress=progress, resume=resume)
    if recipe.autoencoder is not None:
        fit_autoencoder(data, folder, recipe.autoencoder, progress=progress, resume=resume)
    card_kind = getattr(generator, "edit_algorithm", generator.family)
    CARD_WRITERS[card_kind](generator, folder, data, recipe)
    for leftover in ("checkpoint", "vae-checkpoint", TRAINING_STATES):
        shutil.rmtree(folder / leftover, ignore_errors=True)
    return generator


def write_card(generator: MazeGenerator, folder: Path, recipe: GeneratorRecipe) -> None:
    """The generator's model card: how it was made and how good its raw samples are."""
    fit = json.loads((folder / "fit.json").read_text())
    quality = generator.sample_quality(n=500, steps=recipe.sample_steps, seed=0)
    if recipe.sample_steps != 20:  # the figure at the default steps too, for comparison
        quality["raw_perfect_maze_at_20_steps"] = generator.sample_quality(n=500, steps=20, seed=0)[
            "raw_perfect_maze"
        ]
    (folder / "quality.json").write_text(json.dumps(quality, indent=2) + "\n")
    params = sum(p.numel() for p in generator.unet.parameters())
    world, side = generator.spec.world_size, generator.spec.padded_size
    lines = [
        f"# Model card: {recipe.name}",
        "",
        "A diffusers `UNet2DModel` (no attention, block widths "
        f"{fit['config']['block_out_channels']}, {params:,} parameters) with a DDIM scheduler, "
        f"modelling {world}x{world} maze levels as spanning trees on procgen's room lattice "
        f"(`rl_workbench/generative/maze_lattice.py`: each room's parent link toward the start "
        f"room, its depth in that tree modulo {maze_lattice.PERIOD} as an angle, and where the "
        f"objects sit; {maze_lattice.CHANNELS} "
        f"channels on a {side}x{side} lattice), given the maze's room block. The UNet outputs "
        "the clean lattice (`prediction_type=sample`)"
        + (
            " and also takes its own previous estimate (self-conditioning, Analog Bits)"
            if generator.spec.self_conditioning
            else ""
        )
        + ". Sampling rounds each room's tree channels of the clean estimate to their nearest "
        "code at every DDIM step (Diffusion-LM's clamping trick; it knows nothing about trees).",
        "",
        "| field | value |",
        "|---|---|",
        f"| rebuild with | `rlwb zoo build {recipe.name}` |",
        f"| training levels | {fit['training_levels']:,} distinct levels among "
        f"{recipe.collect_states:,} states of `{recipe.source_agent}` on "
        f"`{generator.spec.env_id}` (collect seed 0) |",
        f"| fit | {fit['config']['steps']:,} steps, batch {fit['config']['batch_size']}, "
        f"lr {fit['config']['learning_rate']}, seed {fit['config']['seed']} |",
        f"| fit time | {fit['seconds'] / 60:.1f} min (one CPU core) |",
        f"| final loss | {fit['final_loss']:.4f} |",
        f"| raw samples that are perfect mazes | {quality['raw_perfect_maze']:.1%} "
        f"(500 samples from noise, {quality['steps']} DDIM steps, seed 0"
        + (
            f"; {quality['raw_perfect_maze_at_20_steps']:.1%} at 20 steps"
            if "raw_perfect_maze_at_20_steps" in quality
            else ""
        )
        + ") |",
        f"| ... whose parent links form a tree over the conditioned size | "
        f"{quality['raw_links_tree_given_size']:.1%} |",
        f"| raw samples that are whole on-distribution levels | "
        f"{quality['raw_on_distribution']:.1%} |",
        f"| samples on-distribution after decode | {quality['decoded_on_distribution']:.1%} |",
        f"| distinct raw samples | {quality['distinct_fraction']:.1%} |",
        "",
        '"Raw" reads each sample literally (`maze_lattice.read_raw`): the maze size drawn as the '
        "level generator draws it (the model's condition), each room's passage to the "
        "neighbour its parent channels rate highest among its neighbours in the maze (the "
        "start room is the root), each object at its strongest free cell. Nothing is repaired: "
        "two rooms naming each other or a loop of rooms stay in the reading and make it no "
        "perfect maze. A whole on-distribution level also needs the objects where the variant "
        "puts them (mouse and cheese on distinct cells). `decode` projects every sample onto "
        "the nearest legal level.",
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines))


def atari_quality(folder: Path, data: Path, n: int = 100, seed: int = 0) -> dict[str, Any]:
    """How real the generator's samples look, and how faithful the autoencoder is.

    ``sample_realism``: held-out accuracy of the realism classifier telling ``n`` samples from
    noise (20 DDIM steps) from ``n`` real stacks of the dataset (0.5: indistinguishable).
    ``autoencoder_*``: median proximity and sparsity of the autoencoder's reconstructions of those
    real stacks, the floor under every latent-method counterfactual.
    """
    import statistics

    import numpy as np
    import torch

    from rl_workbench.data import Dataset
    from rl_workbench.domains.atari import AtariState, proximity, sparsity
    from rl_workbench.domains.realism import realism_accuracy

    from .atari_autoencoder import VAE_FOLDER, AtariAutoencoder

    generator = AtariGenerator.from_pretrained(folder)
    obs = Dataset.open(data).arrays("obs")["obs"]
    rng = np.random.default_rng(seed)
    real = [AtariState(obs[int(i)]) for i in rng.choice(len(obs), n, replace=False)]
    samples: list[AtariState] = []
    g = torch.Generator().manual_seed(seed)
    while len(samples) < n:
        samples += generator.sample(min(25, n - len(samples)), steps=20, generator=g)
    quality: dict[str, Any] = {
        "n": n,
        "ddim_steps": 20,
        "sample_realism": realism_accuracy(real, samples, seed=seed),
    }
    if (folder / VAE_FOLDER).is_dir():
        recon = AtariAutoencoder.from_pretrained(folder).reconstruct(real)
        quality["autoencoder_proximity"] = statistics.median(
            proximity(a, b) for a, b in zip(real, recon, strict=True)
        )
        quality["autoencoder_sparsity"] = statistics.median(
            sparsity(a, b) for a, b in zip(real, recon, strict=True)
        )
    return quality


def _atari_source_rows(recipe: GeneratorRecipe, fit: dict[str, Any], more: str = "") -> list[str]:
    """An Atari card's table head: how to rebuild it and which stacks it was fitted on."""
    return [
        "| field | value |",
        "|---|---|",
        f"| rebuild with | `rlwb zoo build {recipe.name}` |",
        f"| training stacks | {fit['training_levels']:,} distinct stacks among "
        f"{recipe.collect_states:,} states of `{recipe.source_agent}` (sampled actions, collect "
        f"seed 0){more} |",
    ]


def write_atari_card(
    generator: AtariGenerator, folder: Path, data: Path, recipe: GeneratorRecipe
) -> None:
    """The Atari generator's model card: how both models were made and how good they are."""
    fit = json.loads((folder / "fit.json").read_text())
    vae_fit_path = folder / "vae" / "fit.json"
    vae_fit = json.loads(vae_fit_path.read_text()) if vae_fit_path.is_file() else None
    quality = atari_quality(folder, data)
    (folder / "quality.json").write_text(json.dumps(quality, indent=2) + "\n")
    params = sum(p.numel() for p in generator.unet.parameters())
    lines = [
        f"# Model card: {recipe.name}",
        "",
        "A diffusers `UNet2DModel` (no attention, block widths "
        f"{fit['config']['block_out_channels']}, {params:,} parameters) with a DDIM scheduler, "
        f"modelling `{generator.spec.env_id}` frame stacks exactly as the agent sees them "
        "(stable-baselines3's Atari pipeline: 84x84 grey, 4 frames, padded to "
        f"{generator.spec.padded_size}x{generator.spec.padded_size}); and in `vae/` the latent "
        "method's diffusers `AutoencoderKL`, fitted on the same stacks.",
        "",
        *_atari_source_rows(recipe, fit),
        f"| UNet fit | {fit['config']['steps']:,} steps, batch {fit['config']['batch_size']}, "
        f"lr {fit['config']['learning_rate']}, seed {fit['config']['seed']}, "
        f"{fit['seconds'] / 60:.1f} min, final noise loss {fit['final_loss']:.4f} |",
    ]
    if vae_fit is not None:
        c = vae_fit["config"]
        lines.append(
            f"| autoencoder fit | widths {c['block_out_channels']}, {c['steps']:,} steps, batch "
            f"{c['batch_size']}, KL weight {c['kl_weight']}, seed {c['seed']}, "
            f"{vae_fit['seconds'] / 60:.1f} min, final reconstruction MSE "
            f"{vae_fit['final_mse']:.5f} |"
        )
    lines += [
        f"| realism of samples from noise | {quality['sample_realism']:.3f} (held-out accuracy "
        f"of a small CNN telling {quality['n']} samples, {quality['ddim_steps']} DDIM steps, "
        "from as many real stacks; 0.5 = indistinguishable) |",
    ]
    if "autoencoder_proximity" in quality:
        lines.append(
            f"| autoencoder reconstructions | median proximity "
            f"{quality['autoencoder_proximity']:.4f}, median sparsity "
            f"{quality['autoencoder_sparsity']:.4f} on {quality['n']} real stacks |"
        )
    lines += [
        "",
        "Counterfactuals do not sample from noise. What uses this model: `diffusion` given it "
        "as --generator (the benchmark's `masked-diffusion`: the agent's own stack re-noised "
        "only where the agent looks and denoised with guidance), `latent` (a search in the "
        "autoencoder's latents) and the benchmark's persistence check (a light "
        "noise-and-denoise); `diffusion`'s default edits with the game's inpainter. So these "
        "figures bound the model's free-running quality, not the counterfactuals' (see "
        "BENCHMARKS.md for those).",
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines))


CARD_WRITERS: dict[str, Callable[[Any, Path, Path, GeneratorRecipe], None]] = {
    "maze": lambda generator, folder, _data, recipe: write_card(generator, folder, recipe),
    "atari": lambda generator, folder, data, recipe: write_atari_card(
        generator, folder, data, recipe
    ),
    "atari-inpainting": lambda generator, folder, data, recipe: write_inpainter_card(
        generator, folder, data, recipe
    ),
}
"""How a shipped generator's model card is written, by the family it models (or, for an
inpainter, its own kind)."""


def inpainter_quality(
    inpainter: AtariInpainter, data: Path, n: int = 200, seed: int = 0
) -> dict[str, Any]:
    """How real a box the inpainter redraws looks, beside an untrained one of the same shape.

    ``box_realism``: held-out accuracy of the realism classifier telling ``n`` real stacks of the
    dataset from the same number of *other* real stacks with one box (6-14 pixels a side, on a
    lit pixel, as the counterfactual method places them) redrawn unguided (0.5:
    indistinguishable); ``untrained_box_realism``: the same with a fresh UNet of the same shape.
    """
    import numpy as np
    import torch

    from rl_workbench.data import Dataset
    from rl_workbench.domains.atari import AtariState
    from rl_workbench.domains.realism import realism_accuracy

    from .atari_inpainter import redraw_box

    obs = Dataset.open(data).arrays("obs")["obs"]
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(obs), 2 * n, replace=False)
    real = [AtariState(obs[int(i)]) for i in picks[:n]]
    others = [AtariState(obs[int(i)]) for i in picks[n:]]
    torch.manual_seed(seed)
    fresh = AtariInpainter(
        type(inpainter.unet).from_config(inpainter.unet.config),
        inpainter.scheduler,
        inpainter.spec,
    )
    quality: dict[str, Any] = {"n": n, "ddim_steps": 10}
    for key, model in (("box_realism", inpainter), ("untrained_box_realism", fresh)):
        box_rng = np.random.default_rng(seed + 1)
        redrawn = [redraw_box(model, s, box_rng, steps=10) for s in others]
        quality[key] = realism_accuracy(real, redrawn, seed=seed)
    return quality


def write_inpainter_card(
    inpainter: AtariInpainter, folder: Path, data: Path, recipe: GeneratorRecipe
) -> None:
    """The inpainter's model card: how it was made and how real the boxes it redraws look."""
    fit = json.loads((folder / "fit.json").read_text())
    quality = inpainter_quality(inpainter, data)
    (folder / "quality.json").write_text(json.dumps(quality, indent=2) + "\n")
    params = sum(p.numel() for p in inpainter.unet.parameters())
    spec = inpainter.spec
    lines = [
        f"# Model card: {recipe.name}",
        "",
        "A diffusers `UNet2DModel` (no attention, block widths "
        f"{fit['config']['block_out_channels']}, {params:,} parameters) with a DDIM scheduler: "
        f"a mask-conditioned inpainting model of {spec.patch}x{spec.patch} windows of "
        f"`{spec.env_id}` frame stacks as the agent sees them (84x84 grey, 4 frames). Its input "
        "is the noisy window, the window with a box blanked, and the box's mask (9 channels); "
        "it predicts the noise inside the box. `rlwb explain --method diffusion` redraws the "
        "boxes around the agent's most salient places with it.",
        "",
        *_atari_source_rows(
            recipe,
            fit,
            "; windows and boxes (3-16 pixels a side) drawn at random, 80% of them centred on "
            "a lit pixel",
        ),
        f"| fit | {fit['config']['steps']:,} steps, batch {fit['config']['batch_size']}, "
        f"lr {fit['config']['learning_rate']}, seed {fit['config']['seed']}, "
        f"{fit['seconds'] / 60:.1f} min on one CPU core, final noise loss inside the boxes "
        f"{fit['final_loss']:.4f} |",
        f"| realism of redrawn boxes | {quality['box_realism']:.3f} (held-out accuracy of a "
        f"small CNN telling {quality['n']} real stacks from {quality['n']} others with one box "
        f"redrawn unguided, {quality['ddim_steps']} DDIM steps; 0.5 = indistinguishable) |",
        f"| the same, untrained UNet of this shape | {quality['untrained_box_realism']:.3f} |",
        "",
        "These figures are for unguided redraws; the counterfactuals' realism, against matched "
        "real stacks and beside both ablations, is in BENCHMARKS.md.",
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines))
