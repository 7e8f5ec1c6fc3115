"""Long jobs (train, audit, fit-generator, fit-autoencoder, explain, collect) lose no work.

Issue 10, section 2: the output folder is checked before any work; two runs never write into the
same folder at once; a rerun leaves no stale pictures; a SIGKILL at the worst moment of a
checkpoint save leaves the previous checkpoint usable; resuming with other settings is refused.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import REPO

TINY_ENV = ["--env", "rlwb/MazeCorner-v0", "--env-arg", "min_size=3", "--env-arg", "max_size=5"]
TRAIN = ["train", *TINY_ENV, "--eval-episodes", "1", "--checkpoint-every", "1024"]
FIT = ["fit-generator", "--widths", "8,8", "--batch-size", "4", "--checkpoint-every", "2"]
MISSING = "/nonexistent/rlwb-agent.zip"


def _long_job_args(job: str, out: Path) -> list[str]:
    """A command line that would fail at its first piece of work (a missing agent, dataset or
    env) if the output were not checked first."""
    return {
        "train": ["train", "--env", "rlwb/NoSuchEnv-v0", "--out", str(out)],
        "audit": ["audit", "--agent", MISSING, "--suite", "corner", "--out", str(out)],
        "explain": ["explain", "--agent", MISSING, "--method", "search", "--out", str(out)],
        "collect": ["collect", "--agent", MISSING, "--out", str(out)],
        "fit-generator": ["fit-generator", "--data", "/nonexistent/ds", "--out", str(out)],
        "fit-autoencoder": ["fit-autoencoder", "--data", "/nonexistent/ds", "--out", str(out)],
    }[job]


JOBS = ["train", "audit", "explain", "collect", "fit-generator", "fit-autoencoder"]


@pytest.mark.parametrize("job", JOBS)
def test_an_out_that_is_a_file_is_refused_before_any_work(rlwb, tmp_path: Path, job: str) -> None:
    out = tmp_path / "results"
    out.write_text("my notes\n")
    rlwb(*_long_job_args(job, out)).assert_refused(str(out), "is a file")
    assert out.read_text() == "my notes\n"  # the file is left alone


@pytest.mark.parametrize("job", ["train", "explain", "fit-generator"])
def test_an_out_under_a_file_is_refused_before_any_work(rlwb, tmp_path: Path, job: str) -> None:
    parent = tmp_path / "notes.txt"
    parent.write_text("x")
    out = parent / "run"
    rlwb(*_long_job_args(job, out)).assert_refused(str(out), f"{parent} is a file")


@pytest.fixture
def unwritable_dir(tmp_path: Path):
    """A folder that cannot be written: chmod 555 for a normal user; for root (who ignores
    permission bits) a path under sysfs, which refuses every write as a read-only mount does."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder / "out"
        folder.chmod(0o755)
        return
    candidate = Path("/sys/rlwb-reliability-out")
    try:
        candidate.mkdir()
    except OSError:
        yield candidate
        return
    candidate.rmdir()
    pytest.skip("no unwritable location available to root here")


@pytest.mark.parametrize("job", JOBS)
def test_an_unwritable_out_is_refused_before_any_work(rlwb, unwritable_dir: Path, job: str) -> None:
    rlwb(*_long_job_args(job, unwritable_dir)).assert_refused(str(unwritable_dir), "not writable")


def _wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"the job ended ({proc.returncode}) before pausing: {err[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the job never reached the pause point")
        time.sleep(0.1)


def _start_paused(args: list[str], pause_at: str, marker: Path) -> subprocess.Popen:
    """Start ``rlwb ARGS`` so that it pauses just before atomically replacing ``pause_at``."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "RLWB_TEST_PAUSE_BEFORE_REPLACE": pause_at,
        "RLWB_TEST_PAUSE_MARKER": str(marker),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "rl_workbench", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_train_killed_while_saving_a_checkpoint_keeps_the_previous_one(
    rlwb, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = rlwb(*TRAIN, "--steps", "2048", "--out", str(out))
    assert first.code == 0, first.err[-2000:]

    # Resume towards 4096 steps and SIGKILL the run while it replaces checkpoints/latest.zip
    # (the new checkpoint is fully written, the old one not yet replaced).
    marker = tmp_path / "paused"
    proc = _start_paused([*TRAIN, "--steps", "4096", "--out", str(out)], "latest.zip", marker)
    try:
        _wait_for(marker, proc)
        # While it runs, a second run into the same folder is refused, naming the folder.
        rlwb(*TRAIN, "--steps", "4096", "--out", str(out)).assert_refused(str(out), "in use")
    finally:
        _kill(proc)

    from rl_workbench.agents.sb3 import load_sb3_model

    model = load_sb3_model(out / "checkpoints" / "latest.zip", "PPO")
    assert model.num_timesteps == 2048  # the previous checkpoint, whole

    # The lock died with the process: the resumed run goes ahead and finishes the job.
    done = rlwb(*TRAIN, "--steps", "4096", "--out", str(out))
    assert done.code == 0, done.err[-2000:]
    card = json.loads((out / "card.json").read_text())
    assert card["total_steps"] == 4096


@pytest.mark.slow
def test_train_refuses_to_resume_with_other_settings(rlwb, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert rlwb(*TRAIN, "--steps", "2048", "--out", str(out)).code == 0
    card = (out / "card.json").read_text()
    changed = [*TRAIN, "--env-arg", "max_size=7", "--seed", "3", "--steps", "4096"]
    run = rlwb(*changed, "--out", str(out))
    run.assert_refused("env_kwargs", "max_size", "seed 0 (now 3)", "--fresh")
    assert (out / "card.json").read_text() == card  # nothing was trained or rewritten
    fresh = rlwb(*changed, "--fresh", "--out", str(out))
    assert fresh.code == 0, fresh.err[-2000:]
    card_after = json.loads((out / "card.json").read_text())
    assert card_after["env_kwargs"]["max_size"] == 7 and card_after["seed"] == 3


def test_fit_generator_killed_between_folder_swaps_resumes_from_a_whole_checkpoint(
    rlwb, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gen"
    first = rlwb(*FIT, "--data", str(tiny_dataset_dir), "--steps", "4", "--out", str(out))
    assert first.code == 0, first.err[-2000:]
    assert json.loads((out / "checkpoint" / "training_state.json").read_text())["step"] == 4

    # Kill it between renaming the old checkpoint aside and renaming the new one in.
    marker = tmp_path / "paused"
    args = [*FIT, "--data", str(tiny_dataset_dir), "--steps", "8", "--out", str(out)]
    proc = _start_paused(args, "checkpoint", marker)
    try:
        _wait_for(marker, proc)
    finally:
        _kill(proc)

    done = rlwb(*args)
    assert done.code == 0, done.err[-2000:]
    record = json.loads((out / "fit.json").read_text())
    assert record["resumed_from_step"] == 6  # the whole step-6 checkpoint was recovered
    assert not (out / "checkpoint.old").exists() and not (out / "checkpoint.tmp").exists()


def test_fit_generator_refuses_to_resume_with_other_settings(
    rlwb, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gen"
    data = ["--data", str(tiny_dataset_dir)]
    assert rlwb(*FIT, *data, "--steps", "2", "--out", str(out)).code == 0
    fit_json = (out / "fit.json").read_text()
    changed = [*FIT, *data, "--steps", "4", "--widths", "16,16", "--out", str(out)]
    rlwb(*changed).assert_refused("block_out_channels [8, 8] (now [16, 16])", "--fresh")
    assert (out / "fit.json").read_text() == fit_json
    fresh = rlwb(*changed, "--fresh")
    assert fresh.code == 0, fresh.err[-2000:]
    assert json.loads((out / "fit.json").read_text())["config"]["block_out_channels"] == [16, 16]


def test_explain_rerun_with_a_smaller_n_leaves_no_stale_items(
    rlwb, tiny_agent_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cf"
    out.mkdir()
    (out / "my-notes.md").write_text("mine\n")
    args = ["explain", "--agent", str(tiny_agent_dir), "--method", "search", "--out", str(out)]
    first = rlwb(*args, "--n", "3")
    assert first.code == 0, first.err[-2000:]
    assert len(list((out / "items").glob("item-*.png"))) == 3
    second = rlwb(*args, "--n", "1")
    assert second.code == 0, second.err[-2000:]
    assert sorted(p.name for p in (out / "items").iterdir()) == ["item-0000.png"]
    assert (out / "my-notes.md").read_text() == "mine\n"  # never a file the run did not write
    assert len(json.loads((out / "report.json").read_text())["items"]) == 1


def test_report_writer_clears_only_its_own_stale_files(tmp_path: Path) -> None:
    from PIL import Image

    from rl_workbench.report import ReportWriter

    picture = Image.new("RGB", (2, 2))
    first = ReportWriter(tmp_path, "first")
    for name in ("a.png", "items/b.png", "items/c.png"):
        first.image(name, picture)
    first.write({}, {})
    (tmp_path / "items" / "user.png").write_bytes(b"mine")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(b"not yours")
    # A tampered manifest must never make the writer delete outside its folder.
    with open(tmp_path / ".rlwb-files", "a", encoding="utf-8") as fh:
        fh.write(f"../{outside.name}\n{outside}\n")
    second = ReportWriter(tmp_path, "second")
    second.image("a.png", picture)
    second.write({}, {})
    assert (tmp_path / "a.png").is_file()
    assert not (tmp_path / "items" / "b.png").exists()
    assert not (tmp_path / "items" / "c.png").exists()
    assert (tmp_path / "items" / "user.png").read_bytes() == b"mine"
    assert outside.read_bytes() == b"not yours"


def test_checkpoint_cadence_is_an_option_with_a_reasoned_default(rlwb) -> None:
    for command in ("train", "fit-generator", "fit-autoencoder"):
        run = rlwb(command, "--help")
        assert run.code == 0
        assert "--checkpoint-every" in run.out, command


def test_a_refused_run_leaves_no_output_folder_behind(rlwb, tmp_path: Path) -> None:
    out = tmp_path / "new-run"
    rlwb(*_long_job_args("train", out)).assert_refused("rlwb/NoSuchEnv-v0")
    assert not out.exists()


def test_a_second_run_into_a_locked_folder_is_refused(
    rlwb, tiny_agent_dir: Path, tmp_path: Path
) -> None:
    from rl_workbench.outputs import claim_output_folder

    out = tmp_path / "cf"
    args = ["explain", "--agent", str(tiny_agent_dir), "--method", "search", "--n", "1"]
    with claim_output_folder(out):  # another run holds the folder
        rlwb(*args, "--out", str(out)).assert_refused(str(out), "in use", f"pid {os.getpid()}")
        assert not (out / "report.json").exists()
    done = rlwb(*args, "--out", str(out))  # released: the same command goes ahead
    assert done.code == 0, done.err[-2000:]
    assert (out / "report.json").is_file()


def test_demo_rerun_with_fewer_mazes_leaves_no_stale_pictures(
    tiny_agent_dir: Path, tmp_path: Path
) -> None:
    from rl_workbench.demo import DemoConfig, run_demo

    def demo(mazes: int) -> Path:
        config = DemoConfig(
            mazes=mazes,
            agents=(str(tiny_agent_dir),),
            cell_px=8,
            counterfactuals=0,
            atari_counterfactuals=0,
            object_counterfactuals=0,
            audit_suite="",
            large_agents=(),
        )
        return run_demo(tmp_path / "demo", config, progress=False)

    assert len(list(demo(3).glob("maze-*.png"))) == 3
    assert sorted(p.name for p in demo(1).glob("maze-*.png")) == ["maze-2024.png"]


def test_population_audit_killed_mid_run_resumes_with_what_was_finished(
    rlwb, tmp_path: Path
) -> None:
    """SIGKILL `rlwb audit --population` while it records its second task: the first task's
    record survives, the torn one does not count, and the rerun audits only what is missing."""
    listing = tmp_path / "agents.txt"
    listing.write_text("zoo:maze-corner\nzoo:maze-uniform\n")
    out = tmp_path / "pop"
    args = ["audit", "--population", str(listing), "--suite", "corner", "--mazes", "20"]
    args += ["--out", str(out), "--serial"]
    marker = tmp_path / "paused"
    proc = _start_paused(args, "audit--maze-uniform--corner.json", marker)
    _wait_for(marker, proc)
    _kill(proc)
    records = sorted(p.name for p in (out / "tasks").glob("*.json"))
    assert records == ["audit--maze-corner--corner.json"]
    assert not (out / "report.json").exists()  # no report claims a finished population
    rerun = rlwb(*args)
    assert rerun.code == 0, rerun.err[-2000:]
    assert "1 of 2 audits were already done (resumed)" in rerun.out
    data = json.loads((out / "report.json").read_text())
    assert sorted(r["agent"] for r in data["agents"]) == ["maze-corner", "maze-uniform"]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads children from /proc")
def test_a_killed_pool_worker_costs_no_task(rlwb, tmp_path: Path) -> None:
    """SIGKILL one worker of `rlwb audit --population` (as the out-of-memory killer would):
    Python fails every task of that pool, and the run gives each of them a pool of its own, so
    every audit still finishes and none is reported failed."""
    listing = tmp_path / "agents.txt"
    listing.write_text("zoo:maze-corner\nzoo:maze-uniform\n")
    out = tmp_path / "pop"
    args = ["audit", "--population", str(listing), "--suite", "corner", "--suite", "sign"]
    args += ["--mazes", "100"]
    args += ["--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rl_workbench", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [c for c in _children(proc.pid) if b"spawn_main" in _cmdline(c)]
        if len(workers) == 2:
            break
        time.sleep(0.05)
    assert len(workers) == 2, "the pool never started"
    time.sleep(1.0)  # the workers are importing torch or running their first audit
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    data = json.loads((out / "report.json").read_text())
    assert data["failures"] == {}
    assert len(data["agents"]) == 4  # 2 agents x 2 suites


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
