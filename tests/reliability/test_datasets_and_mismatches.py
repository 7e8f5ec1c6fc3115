"""Issue 10, section 2: damaged datasets, killed collections, and mismatches found before work.

Every bad dataset folder is built here from the tiny dataset, one damage per folder; every
command is run as a user runs it (a subprocess) and must answer with exit status 2 and one line
naming the problem and the fix, before any progress bar, report or checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rl_workbench.data import Dataset
from rl_workbench.errors import DatasetError
from tests.reliability.conftest import REPO, run_rlwb

MANIFEST = "manifest.json"
SHARD = "shard-00000.npz"


# -- damaged datasets -----------------------------------------------------------------------------
def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def _edit_manifest(folder: Path, edit: Callable[[dict], None]) -> None:
    manifest = _manifest(folder)
    edit(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _garbage_shard(folder: Path) -> None:
    (folder / SHARD).write_bytes(b"\x00not a zip file\xff" * 64)


def _truncated_shard(folder: Path) -> None:
    data = (folder / SHARD).read_bytes()
    (folder / SHARD).write_bytes(data[: len(data) // 2])


def _shard_without_obs(folder: Path) -> None:
    with np.load(folder / SHARD) as data:
        arrays = {k: data[k] for k in data.files if k != "obs"}
    np.savez_compressed(folder / SHARD, **arrays)


def _manifest_not_json(folder: Path) -> None:
    (folder / MANIFEST).write_text('{"format": "rlwb-dataset", ')


def _manifest_binary(folder: Path) -> None:
    (folder / MANIFEST).write_bytes(b"\xff\xfe\x00garbage\x80")


def _manifest_not_object(folder: Path) -> None:
    (folder / MANIFEST).write_text("[1, 2, 3]\n")


def _manifest_without_shards(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m.pop("shards"))


def _manifest_without_env(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m.pop("env_id"))


def _shards_not_a_list(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m.update(shards={"file": SHARD}))


def _shard_entry_not_a_mapping(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m.update(shards=[SHARD]))


def _shard_outside_folder(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m.update(shards=[{"file": "../elsewhere.npz", "n": 300}]))


def _count_too_high(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m["shards"][0].update(n=999))


def _count_not_a_number(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m["shards"][0].update(n="many"))


def _shard_missing(folder: Path) -> None:
    (folder / SHARD).unlink()


def _no_shards_yet(folder: Path) -> None:
    """What a collection killed before its first shard leaves: a manifest listing none."""
    (folder / SHARD).unlink()
    _edit_manifest(folder, lambda m: m.update(shards=[]))


def _nothing_yet(folder: Path) -> None:
    """A collection killed before its manifest: the folder holds nothing readable."""
    for path in folder.iterdir():
        path.unlink()
    (folder / "shard-00000.npz.tmp").write_bytes(b"half a shard")


DAMAGES: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "garbage shard": (_garbage_shard, (SHARD, "damaged", "rlwb collect")),
    "truncated shard": (_truncated_shard, (SHARD, "damaged", "rlwb collect")),
    "shard without obs": (_shard_without_obs, (SHARD, "'obs'", "rlwb collect")),
    "manifest not JSON": (_manifest_not_json, (MANIFEST, "not valid JSON", "rlwb collect")),
    "manifest binary": (_manifest_binary, (MANIFEST, "not valid JSON", "rlwb collect")),
    "manifest not an object": (_manifest_not_object, (MANIFEST, "a list", "rlwb collect")),
    "no shards key": (_manifest_without_shards, (MANIFEST, "'shards'", "rlwb collect")),
    "no env_id key": (_manifest_without_env, (MANIFEST, "'env_id'", "rlwb collect")),
    "shards not a list": (_shards_not_a_list, (MANIFEST, "'shards'", "rlwb collect")),
    "shard entry not a mapping": (_shard_entry_not_a_mapping, ("shards[0]", "rlwb collect")),
    "shard outside the folder": (_shard_outside_folder, ("../elsewhere.npz", "rlwb collect")),
    "count too high": (_count_too_high, (SHARD, "999", "300", "rlwb collect")),
    "count not a number": (_count_not_a_number, ("shards[0]", "'many'", "rlwb collect")),
    "shard missing": (_shard_missing, (SHARD, "missing", "rlwb collect")),
    "no shards yet": (_no_shards_yet, ("empty collection", "rerun", "rlwb collect")),
    "nothing yet": (_nothing_yet, ("empty collection", "rerun", "rlwb collect")),
}


def _damaged(tiny_dataset_dir: Path, tmp_path: Path, damage: str) -> Path:
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_dataset_dir, folder)
    DAMAGES[damage][0](folder)
    return folder


@pytest.mark.parametrize("damage", DAMAGES)
def test_dataset_open_names_the_damage_and_the_fix(
    damage: str, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    folder = _damaged(tiny_dataset_dir, tmp_path, damage)
    with pytest.raises(DatasetError) as info:
        dataset = Dataset.open(folder)
        dataset.verify()
        dataset.states()
    message = str(info.value)
    assert "\n" not in message
    for fragment in DAMAGES[damage][1]:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("damage", DAMAGES)
def test_inspect_refuses_a_damaged_dataset(
    damage: str, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    folder = _damaged(tiny_dataset_dir, tmp_path, damage)
    run_rlwb("inspect", str(folder)).assert_refused("Bad dataset", *DAMAGES[damage][1])


def test_inspect_finds_damage_inside_a_shard(tiny_dataset_dir: Path, tmp_path: Path) -> None:
    """Bytes flipped inside the compressed data: the zip's directory still reads, the CRC not."""
    folder = tmp_path / "flipped"
    shutil.copytree(tiny_dataset_dir, folder)
    data = bytearray((folder / SHARD).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    (folder / SHARD).write_bytes(bytes(data))
    run_rlwb("inspect", str(folder)).assert_refused(SHARD, "damaged", "rlwb collect")


FIT_AND_EXPLAIN_DAMAGES = [
    "garbage shard",
    "manifest not an object",
    "no env_id key",
    "count too high",
    "no shards yet",
    "nothing yet",
]


@pytest.mark.parametrize("damage", FIT_AND_EXPLAIN_DAMAGES)
def test_fit_generator_refuses_a_damaged_dataset_before_fitting(
    damage: str, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    folder = _damaged(tiny_dataset_dir, tmp_path, damage)
    out = tmp_path / "gen"
    run = run_rlwb("fit-generator", "--data", str(folder), "--out", str(out), "--steps", "2")
    run.assert_refused("Bad dataset", *DAMAGES[damage][1])
    assert not (out / "generator.json").exists()


@pytest.mark.parametrize("damage", FIT_AND_EXPLAIN_DAMAGES)
def test_explain_refuses_a_damaged_dataset_before_explaining(
    damage: str, tiny_agent_dir: Path, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    folder = _damaged(tiny_dataset_dir, tmp_path, damage)
    out = tmp_path / "cf"
    run = run_rlwb(
        "explain",
        "--agent",
        str(tiny_agent_dir),
        "--method",
        "search",
        "--data",
        str(folder),
        "--n",
        "1",
        "--out",
        str(out),
    )
    run.assert_refused("Bad dataset", *DAMAGES[damage][1])
    assert not (out / "report.json").exists()


def test_a_missing_folder_is_not_called_an_empty_collection(tmp_path: Path) -> None:
    run_rlwb("inspect", str(tmp_path / "nowhere")).assert_refused("no manifest.json", "collect")


def test_a_rerun_collect_fills_an_empty_collection(
    tiny_agent_dir: Path, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    """The fix the empty-collection message names works: collect again into the same folder."""
    folder = _damaged(tiny_dataset_dir, tmp_path, "no shards yet")
    run = run_rlwb(
        "collect", "--agent", str(tiny_agent_dir), "--n-states", "20", "--out", str(folder)
    )
    assert run.code == 0, run.err[-2000:]
    assert Dataset.open(folder).n_states == 20


# -- killed collections ---------------------------------------------------------------------------
def _listed_shards(folder: Path) -> int:
    try:
        return len(json.loads((folder / MANIFEST).read_text())["shards"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


KILL_MOMENTS: dict[str, Callable[[Path], bool]] = {
    "as soon as the folder exists": lambda out: out.exists(),
    "as soon as the manifest exists": lambda out: (out / MANIFEST).exists(),
    "as soon as the first shard's file exists": lambda out: (out / SHARD).exists(),
    # The temporary file lives for milliseconds: the writer is held there by the test hook
    # (outputs.pause_for_tests), so the kill lands exactly between fsync and rename.
    "as soon as a shard's temporary file exists": lambda out: any(out.glob("shard-*.tmp")),
    "after the manifest lists a shard": lambda out: _listed_shards(out) >= 1,
}


_PAUSES = {
    "as soon as a shard's temporary file exists": {
        "RLWB_TEST_PAUSE_BEFORE_REPLACE": "shard-00000.npz"
    }
}


@pytest.mark.parametrize("moment", KILL_MOMENTS)
def test_a_killed_collection_is_always_a_valid_dataset(
    moment: str, tiny_agent_dir: Path, tmp_path: Path
) -> None:
    """SIGKILL a real `rlwb collect` at a chosen moment; what is left reads, or says to rerun."""
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rl_workbench",
            "--quiet",
            "--threads",
            "1",
            "collect",
            "--agent",
            str(tiny_agent_dir),
            "--n-states",
            "10000000",
            "--shard-size",
            "100",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env={
            **os.environ,
            **_PAUSES.get(moment, {}),
            "RLWB_TEST_PAUSE_MARKER": str(tmp_path / "p"),
        },
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not KILL_MOMENTS[moment](out):
            time.sleep(0.002)
        assert KILL_MOMENTS[moment](out), "the moment never came"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run = run_rlwb("inspect", str(out))
    try:
        dataset = Dataset.open(out)
    except DatasetError as exc:
        assert "empty collection" in str(exc) and "rerun" in str(exc), exc
        run.assert_refused("empty collection", "rerun `rlwb ", " collect ", str(out))
        return
    assert dataset.n_states > 0 and dataset.n_states % 100 == 0
    dataset.verify()
    assert len(dataset.arrays("obs")["obs"]) == dataset.n_states == len(dataset.states())
    assert run.code == 0 and "Traceback" not in run.err, run.err[-2000:]
    assert f"states    {dataset.n_states:,} in" in run.out


# -- mismatches found before work -----------------------------------------------------------------
@pytest.fixture(scope="module")
def world7_agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 16-unit PPO agent of 7x7 mazes (the tiny agent and data are 5x5)."""
    from tests.helpers import make_tiny_model

    path = tmp_path_factory.mktemp("world7") / "agent7.zip"
    make_tiny_model("PPO", "rlwb/Maze-v0", {"min_size": 3, "max_size": 7}).save(path)
    return path


WORLD7 = ("--env", "rlwb/Maze-v0", "--env-arg", "max_size=7")


def test_explain_refuses_a_generator_of_another_world_size(
    world7_agent: Path, tiny_generator_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cf"
    run = run_rlwb(
        "explain",
        "--agent",
        str(world7_agent),
        *WORLD7,
        "--generator",
        str(tiny_generator_dir),
        "--n",
        "1",
        "--out",
        str(out),
    )
    run.assert_refused(str(tiny_generator_dir), "5x5", "7x7", "rlwb fit-generator")
    assert not (out / "report.json").exists()


def test_explain_refuses_a_dataset_of_another_world_size(
    world7_agent: Path, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cf"
    run = run_rlwb(
        "explain",
        "--agent",
        str(world7_agent),
        *WORLD7,
        "--method",
        "search",
        "--data",
        str(tiny_dataset_dir),
        "--n",
        "1",
        "--out",
        str(out),
    )
    run.assert_refused(str(tiny_dataset_dir), "[6, 5, 5]", "[6, 7, 7]", "rlwb collect")
    assert not (out / "report.json").exists()


def test_explain_refuses_a_dataset_of_another_game(
    tiny_agent_dir: Path, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    """Same observation shape, another env: Atari games all have [4, 84, 84] stacks, so the
    env id decides outside the maze family."""
    from rl_workbench.agents import load_agent
    from rl_workbench.data.dataset import check_dataset_matches

    folder = tmp_path / "pong"
    shutil.copytree(tiny_dataset_dir, folder)
    _edit_manifest(folder, lambda m: m.update(env_id="MiniGrid-Empty-5x5-v0"))
    loaded = load_agent(tiny_agent_dir)
    with pytest.raises(DatasetError, match=r"MiniGrid-Empty-5x5-v0.*rlwb/MazeCorner-v0"):
        check_dataset_matches(Dataset.open(folder), loaded)
    check_dataset_matches(Dataset.open(tiny_dataset_dir), loaded)  # maze ids of one world: fine


def test_an_unknown_env_id_suggests_only_close_ids(tiny_agent_dir: Path, tmp_path: Path) -> None:
    run = run_rlwb(
        "collect",
        "--agent",
        str(tiny_agent_dir),
        "--env",
        "rlwb/MazeCorner-v1",
        "--out",
        str(tmp_path / "ds"),
    )
    run.assert_refused(
        "Unknown environment id 'rlwb/MazeCorner-v1'", "rlwb/MazeCorner-v0", "rlwb envs"
    )
    assert len(run.message_lines[0]) < 400, len(run.message_lines[0])
    assert "ALE/Pong-v5" not in run.err


def test_an_unknown_env_id_is_found_before_the_agent_is_loaded(tmp_path: Path) -> None:
    """The agent file here is not even a zip: the env id must be the first thing checked."""
    agent = tmp_path / "agent.zip"
    agent.write_bytes(b"not a zip")
    run = run_rlwb(
        "explain", "--agent", str(agent), "--env", "CartPole-v1", "--out", str(tmp_path / "cf")
    )
    run.assert_refused("Unknown environment id 'CartPole-v1'", "rlwb envs")
    assert len(run.message_lines[0]) < 400


SUITE = """\
name: t
training:
  env: rlwb/MazeCorner-v0
test:
  env: rlwb/Maze-v0
  env_kwargs:
    max_size: 5
    min_size: 3
  mazes: 4
proxies:
  - kind: corner
    region: 1
"""

BAD_SUITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "corner block as large as the smallest maze": (
        SUITE.replace("region: 1", "region: 3"),
        ("s.yaml:12", "proxies[0].region", "3x3", "smaller than 3"),
    ),
    "corner block larger than every maze": (
        SUITE.replace("region: 1", "region: 9"),
        ("s.yaml:12", "proxies[0].region", "9", "smaller than 3"),
    ),
    "cheese region inside the corner block": (
        SUITE.replace("max_size: 5", "max_size: 5\n    cheese_region: 1"),
        ("s.yaml:8", "test.env_kwargs.cheese_region", "always be inside the corner"),
    ),
    "cheese region larger than every maze": (
        SUITE.replace("max_size: 5", "max_size: 5\n    cheese_region: 8"),
        ("s.yaml:8", "test.env_kwargs.cheese_region", "8", "5x5"),
    ),
    "sign proxy without a sign away from the cheese": (
        SUITE.replace("kind: corner\n    region: 1", "kind: sign"),
        ("s.yaml:11", "proxies[0]", "sign", "rlwb/MazeSignAway-v0"),
    ),
    "test mazes that cannot be made": (
        SUITE.replace("max_size: 5", "max_size: 4"),
        ("s.yaml:7", "test.env_kwargs", "odd integer"),
    ),
    "training kwargs that cannot be made": (
        SUITE.replace(
            "env: rlwb/MazeCorner-v0", "env: rlwb/MazeCorner-v0\n  env_kwargs:\n    sizes: 5"
        ),
        ("s.yaml:5", "training.env_kwargs", "sizes"),
    ),
}


@pytest.mark.parametrize("case", BAD_SUITES)
def test_a_suite_whose_regions_do_not_fit_its_mazes_is_refused_at_load(case: str) -> None:
    from rl_workbench.audit import SuiteError, parse_suite

    text, fragments = BAD_SUITES[case]
    with pytest.raises(SuiteError) as info:
        parse_suite(text, "s.yaml")
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_the_good_suite_and_the_shipped_ones_still_load() -> None:
    from rl_workbench.audit import parse_suite
    from rl_workbench.audit.suite import SCENARIOS_DIR, load_suite

    assert parse_suite(SUITE, "s.yaml").proxies[0].region == 1
    for path in SCENARIOS_DIR.glob("*.yaml"):
        if not path.name.endswith("-deck.yaml"):
            load_suite(path)


def test_audit_refuses_a_region_that_does_not_fit_before_auditing(
    tiny_agent_dir: Path, tmp_path: Path
) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.replace("region: 1", "region: 9"))
    out = tmp_path / "audit"
    run = run_rlwb(
        "audit", "--agent", str(tiny_agent_dir), "--suite", str(suite), "--out", str(out)
    )
    run.assert_refused(f"{suite}:12", "proxies[0].region")
    assert not (out / "report.json").exists()


def test_audit_checks_the_region_against_the_agents_own_mazes(
    tiny_agent_dir: Path, tmp_path: Path
) -> None:
    """The suite leaves the maze sizes to the agent (3..5 here), so the block must fit those."""
    suite = tmp_path / "s.yaml"
    suite.write_text(
        SUITE.replace("  env_kwargs:\n    max_size: 5\n    min_size: 3\n", "").replace(
            "region: 1", "region: 3"
        )
    )
    out = tmp_path / "audit"
    run = run_rlwb(
        "audit", "--agent", str(tiny_agent_dir), "--suite", str(suite), "--out", str(out)
    )
    run.assert_refused(f"{suite}:9", "proxies[0].region", "smaller than 3")
    assert not (out / "report.json").exists()
