"""The package boundaries in pyproject.toml's import-linter contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
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
