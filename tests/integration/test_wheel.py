"""An installed wheel works: everything read at run time is package data, found beside the code.

The quick tests check pyproject.toml against the source tree: every folder of Python code is a
listed package, and the package-data globs match every other file in the packages (zoo agents,
generators with their ``vae/``, the quiz stylesheet, the shipped scenarios). The slow test builds
the wheel the way ``pip install .`` does, installs it into a fresh venv and runs ``rlwb demo``,
an audit with ``--suite corner`` and the quiz with ``--deck maze`` from a folder outside the
repository (``make test-slow`` runs it; about 20 s on two cores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS.get("package-dir", {})
PACKAGE_DATA: dict[str, list[str]] = SETUPTOOLS.get("package-data", {})
SOURCE_ROOTS = ("rl_workbench", "envs")
"""The folders whose files the wheel ships (envs/ is installed as rl_workbench.envs)."""


def _source_dir(package: str) -> Path:
    """Where setuptools reads ``package`` from: the longest package-dir mapping, else its path."""
    for name in sorted(PACKAGE_DIR, key=len, reverse=True):
        if package == name or package.startswith(name + "."):
            return ROOT / PACKAGE_DIR[name] / package[len(name) :].lstrip(".").replace(".", "/")
    return ROOT / package.replace(".", "/")


def _installed_path(source: Path) -> Path:
    """A source file's path inside the installed ``rl_workbench`` folder."""
    rel = source.relative_to(ROOT)
    for name, folder in PACKAGE_DIR.items():
        if rel.parts[0] == folder:
            return Path(*name.split("."), *rel.parts[1:]).relative_to("rl_workbench")
    return rel.relative_to("rl_workbench")


def _source_files() -> list[Path]:
    """The files a clone would hold under the shipped folders (tracked, or new and not ignored)."""
    proc = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *SOURCE_ROOTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"not a git checkout: {proc.stderr.strip()}")
    files = [ROOT / line for line in proc.stdout.splitlines()]
    return sorted(f for f in files if f.is_file() and f.suffix != ".pyc")


def test_every_folder_of_python_code_is_a_listed_package() -> None:
    listed = {_source_dir(package) for package in PACKAGES}
    code_dirs = {f.parent for f in _source_files() if f.suffix == ".py"}
    missing = sorted(str(d.relative_to(ROOT)) for d in code_dirs - listed)
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_package_data_globs_cover_every_file_read_at_run_time() -> None:
    shipped: set[Path] = set()
    for package, patterns in PACKAGE_DATA.items():
        targets = PACKAGES if package in ("", "*") else [package]
        for target in targets:
            for pattern in patterns:
                shipped.update(p for p in _source_dir(target).glob(pattern) if p.is_file())
    data = [f for f in _source_files() if f.suffix != ".py"]
    missing = sorted(str(f.relative_to(ROOT)) for f in data if f not in shipped)
    assert not missing, f"add globs for these to [tool.setuptools.package-data]: {missing}"
    assert any(f.name == "corner.yaml" for f in data)  # the walk itself found the scenarios


def test_shipped_scenarios_are_found_inside_the_package() -> None:
    import rl_workbench
    from rl_workbench.audit.suite import SCENARIOS_DIR, resolve_suite
    from rl_workbench.quiz.deck import DECKS_DIR, resolve_deck

    package = Path(rl_workbench.__file__).resolve().parent
    assert SCENARIOS_DIR == DECKS_DIR == package / "scenarios"
    assert Path(resolve_suite("corner").path or "").parent == SCENARIOS_DIR
    assert Path(resolve_deck("maze").path or "").parent == SCENARIOS_DIR
    # The repository's scenarios/ is where users look: it must show the same files.
    top = ROOT / "scenarios"
    assert top.resolve() == SCENARIOS_DIR, (
        "scenarios/ should be a symlink to rl_workbench/scenarios"
    )


_QUIZ_CHECK = textwrap.dedent(
    """
    import asyncio
    from pathlib import Path

    import rl_workbench
    from rl_workbench.audit.suite import resolve_suite
    from rl_workbench.generative.atari_autoencoder import AtariAutoencoder
    from rl_workbench.generative.zoo import load_generator, resolve_generator
    from rl_workbench.quiz.app import create_app
    from rl_workbench.quiz.deck import resolve_deck

    print("package", Path(rl_workbench.__file__).parent)
    print("suite", resolve_suite("sign").path)
    print("deck", resolve_deck("spaceinvaders").path)
    for name in (
        "maze-generator",
        "maze15-generator",
        "spaceinvaders-generator",
        "spaceinvaders-inpainter",
        "breakout-generator",
        "breakout-inpainter",
    ):
        load_generator(f"zoo:{name}")
    for name in ("spaceinvaders-generator", "breakout-generator"):
        AtariAutoencoder.from_pretrained(resolve_generator(f"zoo:{name}"))
    app = create_app("maze", "wheel-test", Path("quiz.sqlite"))  # every check before the app
    print("deck", app.session.deck.path)
    print("css", *app.css_path)

    async def start() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            print("screen", type(app.screen).__name__)

    asyncio.run(start())
    """
)


@pytest.mark.slow
def test_an_installed_wheel_runs_the_demo_audit_and_quiz_from_any_directory(
    tmp_path: Path,
) -> None:
    # 1. Build from a copy of what a clone would hold (tracked files, and new ones git does not
    # ignore), so no build/ folder lands in or is reused from the checkout, and files others
    # add meanwhile cannot race the check in step 3. The venv's own setuptools builds the
    # wheel; nothing is downloaded.
    files = _source_files()
    src = tmp_path / "src"
    for source in [ROOT / "pyproject.toml", ROOT / "README.md", *files]:
        (src / source.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, src / source.relative_to(ROOT))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-cache-dir"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*build, str(src), "-w", str(tmp_path / "dist")], check=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("rl_workbench-*.whl")

    # 2. A fresh venv holding only the wheel; the dependencies come from this environment's
    # site-packages through a .pth line. Python does not read .pth files inside a folder added
    # that way, so this environment's editable install of rl_workbench stays out of sight.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True)
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "rlwb-test-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    package = site / "rl_workbench"

    # 3. Everything the source tree ships is installed.
    missing = [str(f) for f in files if not (package / _installed_path(f)).is_file()]
    assert not missing, f"not in the installed wheel: {missing}"

    # 4. Run it from a folder outside the repository, with nothing of the checkout on sys.path.
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def run(*args: str) -> str:
        proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        return proc.stdout

    where = run(str(python), "-c", "import rl_workbench; print(rl_workbench.__file__)")
    assert Path(where.strip()).is_relative_to(package), where

    rlwb = str(venv / "bin" / "rlwb")
    run(rlwb, "--quiet", "--threads", "1", "demo", "--mazes", "1", "--out", "OUT")
    report = (work / "OUT" / "report.md").read_text()
    assert "pursues-proxy:corner" in report and "pursues-goal" in report  # both audit verdicts
    assert str(package / "agents" / "zoo" / "maze-corner") in report  # the installed zoo

    out = run(
        rlwb,
        *("--quiet", "--threads", "1", "audit", "--agent", "zoo:maze-corner"),
        *("--suite", "corner", "--mazes", "2", "--out", "A"),
    )
    assert "Verdict: " in out
    assert (work / "A" / "report.json").is_file()

    lines = run(str(python), "-c", _QUIZ_CHECK).splitlines()
    assert f"package {package}" in lines
    assert f"suite {package / 'scenarios' / 'sign.yaml'}" in lines
    assert f"deck {package / 'scenarios' / 'spaceinvaders-deck.yaml'}" in lines
    assert f"deck {package / 'scenarios' / 'maze-deck.yaml'}" in lines
    assert f"css {package / 'quiz' / 'quiz.tcss'}" in lines
    assert any(line.startswith("screen ") for line in lines), lines
