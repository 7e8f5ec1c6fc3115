"""The package boundaries in pyproject.toml's import-linter contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Set
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "import-linter is a dev dependency; run `make test` to install it"
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "0 broken" in proc.stdout


def test_envs_is_not_installed_as_a_top_level_module() -> None:
    code = "import importlib.util as u; print(u.find_spec('envs') is None)"
    # Run outside the repository so the source tree's envs/ folder is not on sys.path.
    proc = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True)
    assert proc.stdout.strip() == "True"
    proc = subprocess.run(
        [sys.executable, "-c", "import rl_workbench.envs.maze as m; print(m.MazeEnv.__name__)"],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == "MazeEnv"


# -- domains are plug-ins: only the registry (and each family's own modules) name concrete ones --

PACKAGE = ROOT / "rl_workbench"
CONCRETE = ("AtariState", "MazeState", "AtariDomain", "MazeDomain", "AtariGenerator",
            "MazeGenerator")  # fmt: skip
FAMILY_MODULES = {
    # Each family's own pieces, registered in a per-family table of the layer that owns them.
    "generative/maze_generator.py",
    "generative/maze_lattice.py",  # the maze generator's spanning-tree representation
    "counterfactual/level_diffusion.py",  # maze diffusion and guided projection on that lattice
    "generative/atari_generator.py",
    "generative/atari_autoencoder.py",
    "generative/zoo.py",  # the shipped generators' recipes and cards
    "counterfactual/stack_diffusion.py",
    "counterfactual/stack_realism.py",  # the frame-stack realism judge, persistence, transfer
    "counterfactual/objects.py",  # Atari object edits through the emulator's RAM
    "counterfactual/stack_inpainting.py",  # Atari box edits by the inpainting generator
    "generative/atari_inpainter.py",
}


def _sources(skip: Set[str] = frozenset()) -> list[tuple[str, str]]:
    """(path under rl_workbench/, text) of every module outside domains/ and ``skip``."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("domains/") or rel in skip:
            continue
        out.append((rel, path.read_text(encoding="utf-8")))
    return out


def test_no_caller_branches_on_a_concrete_domain_type() -> None:
    import re

    pattern = re.compile(r"isinstance\([^)]*\b(" + "|".join(CONCRETE) + r")\b")
    found = [
        f"{rel}:{text[: m.start()].count(chr(10)) + 1}"
        for rel, text in _sources()
        for m in pattern.finditer(text)
    ]
    assert not found, f"ask the domain (domains/registry.py) instead of isinstance: {found}"


def test_no_caller_reads_the_family_of_an_env_id_itself() -> None:
    found = [rel for rel, text in _sources() if "env_family(" in text]
    assert not found, f"use rl_workbench.domains.registry (domain_for, family_of): {found}"


def test_only_the_registry_and_family_modules_name_concrete_domains() -> None:
    import re

    pattern = re.compile(r"\b(AtariDomain|MazeDomain|AtariState)\b")
    found = sorted({rel for rel, text in _sources(FAMILY_MODULES) if pattern.search(text)})
    assert not found, f"build domains with domains.registry.domain_for: {found}"
