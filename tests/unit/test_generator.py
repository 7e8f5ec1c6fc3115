"""The maze generator: diffusers save/load round trip, resume, and clear errors for bad folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from rl_workbench.errors import DatasetError
from rl_workbench.generative import FitConfig, GeneratorLoadError, MazeGenerator, fit_generator


def test_save_load_gives_the_same_samples(tiny_generator_dir: Path, tmp_path: Path) -> None:
    gen = MazeGenerator.from_pretrained(tiny_generator_dir)
    gen.save_pretrained(tmp_path / "copy")
    again = MazeGenerator.from_pretrained(tmp_path / "copy")
    a = gen.sample(4, steps=5, generator=torch.Generator().manual_seed(1))
    b = again.sample(4, steps=5, generator=torch.Generator().manual_seed(1))
    assert a == b
    assert all(gen.domain.is_on_distribution(s) for s in a)  # decode always repairs
    assert (tiny_generator_dir / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    assert json.loads((tiny_generator_dir / "generator.json").read_text())["world_size"] == 5


def test_sample_quality_reports_raw_and_decoded(tiny_generator_dir: Path) -> None:
    q = MazeGenerator.from_pretrained(tiny_generator_dir).sample_quality(n=8, steps=4)
    assert q["decoded_on_distribution"] == 1.0
    assert 0.0 <= q["raw_on_distribution"] <= 1.0


def test_fit_resumes_from_its_checkpoint(tiny_dataset_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    config = FitConfig(steps=10, batch_size=4, block_out_channels=(8, 8), checkpoint_every=5)
    fit_generator(tiny_dataset_dir, out, config, progress=False)
    assert json.loads((out / "checkpoint" / "training_state.json").read_text())["step"] == 10
    longer = FitConfig(steps=15, batch_size=4, block_out_channels=(8, 8), checkpoint_every=5)
    fit_generator(tiny_dataset_dir, out, longer, progress=False)
    assert json.loads((out / "checkpoint" / "training_state.json").read_text())["step"] == 15


@pytest.mark.parametrize(
    "damage", ["no_json", "bad_json", "no_weights", "garbage_weights", "wrong_format"]
)
def test_damaged_folders_give_one_clear_error(
    damage: str, tiny_generator_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "gen"
    shutil.copytree(tiny_generator_dir, folder)
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    if damage == "no_json":
        (folder / "generator.json").unlink()
        match = "not a generator folder"
    elif damage == "bad_json":
        (folder / "generator.json").write_text("{not json")
        match = "is damaged"
    elif damage == "wrong_format":
        (folder / "generator.json").write_text(json.dumps({"format": "other", "version": 1}))
        match = "expected 'rlwb-maze-lattice-generator'"
    elif damage == "no_weights":
        weights.unlink()
        match = "cannot be read"
    else:
        weights.write_bytes(b"\x00" * 64)
        match = "cannot be read"
    with pytest.raises(GeneratorLoadError, match=match):
        MazeGenerator.from_pretrained(folder)


def test_mismatched_generator_is_refused(tiny_generator_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "gen"
    shutil.copytree(tiny_generator_dir, folder)
    spec = json.loads((folder / "generator.json").read_text())
    spec["padded_size"] = 16
    (folder / "generator.json").write_text(json.dumps(spec))
    with pytest.raises(GeneratorLoadError, match="describes"):
        MazeGenerator.from_pretrained(folder)


def test_fit_needs_a_maze_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no manifest\.json"):
        fit_generator(tmp_path / "nothing", tmp_path / "gen", FitConfig(steps=1), progress=False)


def test_a_self_conditioned_fit_saves_loads_and_samples(
    tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gen"
    config = FitConfig(steps=6, batch_size=4, block_out_channels=(8, 8), self_conditioning=True)
    gen = fit_generator(tiny_dataset_dir, out, config, progress=False)
    assert isinstance(gen, MazeGenerator)
    again = MazeGenerator.from_pretrained(out)
    assert again.spec.self_conditioning
    assert again.unet.config.in_channels == 2 * 17 + 1
    a = gen.sample(3, steps=4, generator=torch.Generator().manual_seed(2))
    assert a == again.sample(3, steps=4, generator=torch.Generator().manual_seed(2))
    # the previous estimate is an input: the same x_t with another one gives another estimate
    x = torch.randn(1, 17, again.spec.padded_size, again.spec.padded_size)
    block = again.room_block([5])
    t = torch.tensor([500])
    with torch.no_grad():
        plain = again.denoise(x, t, block)
        other = again.denoise(x, t, block, torch.ones_like(x))
    assert not torch.allclose(plain, other)
