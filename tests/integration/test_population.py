"""Populations as a user runs them: `rlwb audit --population`, `rlwb train --seeds`, and
`rlwb explain --whole-dataset`, on the local process pool and on a local Ray; resumable task by
task, with one broken member reported and the rest finished."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rl_workbench.cli import cli
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.population import parse_seeds, read_population
from tests.helpers import TINY_MAZE


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--quiet", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def rows(folder: Path) -> list[dict]:
    data = json.loads((folder / "report.json").read_text())
    keep = ("agent", "suite", "condition", "verdict", "proxy_pursuit", "competence", "mazes")
    return sorted(
        ({k: r[k] for k in keep} for r in data["agents"]), key=lambda r: (r["agent"], r["suite"])
    )


def test_seed_lists_parse_ranges_lists_and_refuse_nonsense() -> None:
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5, 1,3-4") == [1, 3, 4, 5]
    assert parse_seeds("7") == [7]
    for bad in ("a", "3-1", "1-", "-2", "0-99999"):
        with pytest.raises(InvalidArgumentError):
            parse_seeds(bad)


def test_population_file_and_folder_name_their_agents(tmp_path: Path) -> None:
    (tmp_path / "b" / "x").mkdir(parents=True)
    (tmp_path / "b" / "x" / "agent.zip").write_bytes(b"")
    (tmp_path / "b" / "y.zip").write_bytes(b"")
    (tmp_path / "b" / "notes").mkdir()  # no agent in it: not a member
    listing = tmp_path / "agents.txt"
    listing.write_text("# corner agents\nzoo:maze-corner\n\nb/x  # relative to the file\nb/x\n")
    members = read_population(listing)
    assert [m.name for m in members] == ["maze-corner", "b-x"]  # b/x listed twice: one member
    assert members[1].ref == str((tmp_path / "b" / "x").resolve())
    assert [m.name for m in read_population(tmp_path / "b")] == ["b-x", "b-y"]
    (tmp_path / "c" / "b" / "x").mkdir(parents=True)
    (tmp_path / "c" / "b" / "x" / "agent.zip").write_bytes(b"")
    listing.write_text(f"{tmp_path}/b/x\n{tmp_path}/c/b/x/agent.zip\n")
    first, second = read_population(listing)
    assert first.name.startswith("b-x-") and second.name.startswith("b-x-")
    assert first.name != second.name
    # names depend on the reference alone: adding a member renames no one
    listing.write_text("b/x\n")
    assert read_population(listing)[0].name == "b-x"
    (tmp_path / "empty.txt").write_text("# nothing\n")
    for bad in (tmp_path / "empty.txt", tmp_path / "missing", tmp_path / "b" / "notes"):
        with pytest.raises(InvalidArgumentError):
            read_population(bad)
    # A line naming nothing is refused before any work, with its line number.
    listing.write_text("b/x\n\nb/typo\nzoo:maze-cornr\nb/y.zip\n")
    named = r"line 3 \(b/typo\), line 4 \(zoo:maze-cornr\)\."
    with pytest.raises(InvalidArgumentError, match=named):
        read_population(listing)


def test_population_audit_reports_each_agent_survives_a_broken_one_and_resumes(
    tmp_path: Path,
) -> None:
    listing = tmp_path / "agents.txt"
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "agent.zip").write_bytes(b"not a zip")  # exists, fails to load
    listing.write_text("zoo:maze-corner\nzoo:maze-uniform\nbroken/\n")
    out = tmp_path / "pop"
    args = ("audit", "--population", str(listing), "--suite", "corner", "--mazes", "40")
    code, stdout, stderr = run(*args, "--out", str(out), "--workers", "2")
    assert code == 1, stderr  # one member failed: reported, the others finished
    assert "1 of 3 audits failed" in stderr
    data = json.loads((out / "report.json").read_text())
    (failed,) = data["failures"]
    assert failed.startswith("audit--") and failed.endswith("-broken--corner")
    assert "no card.json" in data["failures"][failed]
    verdicts = {r["agent"]: r["verdict"] for r in data["agents"]}
    assert verdicts == {"maze-corner": "pursues-proxy:corner", "maze-uniform": "pursues-goal"}
    for row in data["agents"]:  # the competence gate's evidence travels with each row
        e = row["efficiency"]
        assert e["n"] > 0 and e["low"] <= e["median"] <= e["high"] and e["low"] >= 0.3
    by_condition = data["conditions"]["corner"]
    assert by_condition["rlwb/MazeCorner-v0"]["proxy_pursuit"]["mean"]["value"] > 0.5
    assert by_condition["rlwb/Maze-v0"]["proxy_pursuit"]["mean"]["value"] < 0.25
    assert (out / "audits" / "maze-corner--corner" / "report.md").is_file()
    assert (out / "detection-corner.png").is_file()
    # Rerun without the broken line: nothing is audited again.
    record = out / "tasks" / "audit--maze-corner--corner.json"
    before = record.stat().st_mtime_ns
    listing.write_text("zoo:maze-corner\nzoo:maze-uniform\n")
    code, stdout, stderr = run(*args, "--out", str(out), "--workers", "2")
    assert code == 0, stderr
    assert "2 of 2 audits were already done (resumed)" in stdout
    assert record.stat().st_mtime_ns == before
    # A lost record, or a deleted report folder, runs that task again.
    record.unlink()
    code, stdout, _ = run(*args, "--out", str(out), "--serial")
    assert code == 0 and "1 of 2 audits were already done" in stdout
    assert record.is_file()
    import shutil

    shutil.rmtree(out / "audits" / "maze-uniform--corner")
    code, stdout, _ = run(*args, "--out", str(out), "--serial")
    assert code == 0 and "1 of 2 audits were already done" in stdout
    assert (out / "audits" / "maze-uniform--corner" / "report.json").is_file()


def test_ray_gives_the_pool_s_results(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    listing = tmp_path / "agents.txt"
    listing.write_text("zoo:maze-corner\nzoo:maze-uniform\n")
    args = ("audit", "--population", str(listing), "--suite", "corner", "--suite", "sign")
    code, _, stderr = run(*args, "--mazes", "30", "--out", str(tmp_path / "pool"))
    assert code == 0, stderr
    code, _, stderr = run(
        *args, "--mazes", "30", "--out", str(tmp_path / "ray"), "--ray", "--workers", "2"
    )
    assert code == 0, stderr
    assert "local Ray (2 CPUs)" in stderr
    pool, ray = rows(tmp_path / "pool"), rows(tmp_path / "ray")
    assert len(pool) == 4
    assert pool == ray


def test_ray_trains_and_explains_as_the_pool_does(
    tiny_agent_dir: Path, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    """`rlwb train --seeds` and `rlwb explain --whole-dataset` on a local Ray with 2 CPUs give the
    process pool's agents (the same weights, seed for seed) and the pool's items."""
    pytest.importorskip("ray")
    import zipfile

    env_args = [a for k, v in TINY_MAZE.items() for a in ("--env-arg", f"{k}={v}")]
    train = (
        "train", "--env", "rlwb/MazeCorner-v0", *env_args, "--steps", "256",
        "--eval-episodes", "4", "--seeds", "0-1", "--workers", "2",
    )  # fmt: skip
    explain = (
        "explain", "--agent", str(tiny_agent_dir), "--env", "rlwb/Maze-v0", *env_args,
        "--method", "nearest", "--data", str(tiny_dataset_dir), "--whole-dataset",
        "--slice", "15", "--workers", "2",
    )  # fmt: skip
    for engine, extra in (("pool", ()), ("ray", ("--ray",))):
        for command, name in ((train, "train"), (explain, "explain")):
            code, _, stderr = run(*command, *extra, "--out", str(tmp_path / engine / name))
            assert code == 0, stderr
            if engine == "ray":
                assert "local Ray (2 CPUs)" in stderr

    def weights(engine: str, seed: int) -> bytes:
        agent = tmp_path / engine / "train" / f"seed-{seed}" / "agent.zip"
        with zipfile.ZipFile(agent) as archive:
            return archive.read("policy.pth")

    assert weights("pool", 0) != weights("pool", 1)
    for seed in (0, 1):
        assert weights("ray", seed) == weights("pool", seed)

    def items(engine: str) -> list[dict]:
        report = json.loads((tmp_path / engine / "explain" / "report.json").read_text())
        slices = sorted(report["slices"], key=lambda s: s["start"])
        assert len(slices) >= 2  # several tasks, so the engines really share the work
        found = [json.loads((Path(s["out"]) / "report.json").read_text()) for s in slices]
        return [{k: v for k, v in i.items() if k != "seconds"} for f in found for i in f["items"]]

    from rl_workbench.data import Dataset

    pooled = items("pool")
    assert len(pooled) == len(dict.fromkeys(Dataset.open(tiny_dataset_dir).states()))
    assert any(i["valid"] for i in pooled)
    assert items("ray") == pooled


def test_train_seeds_trains_a_population_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "pop"
    env_args = [a for k, v in TINY_MAZE.items() for a in ("--env-arg", f"{k}={v}")]
    args = [
        "train", "--env", "rlwb/MazeCorner-v0", *env_args, "--steps", "256",
        "--eval-episodes", "4", "--seeds", "0-1", "--out", str(out), "--workers", "2",
    ]  # fmt: skip
    code, stdout, stderr = run(*args)
    assert code == 0, stderr
    for seed in (0, 1):
        card = json.loads((out / f"seed-{seed}" / "card.json").read_text())
        assert card["seed"] == seed and card["env_kwargs"] == TINY_MAZE
    weights = [(out / f"seed-{s}" / "agent.zip").read_bytes() for s in (0, 1)]
    assert weights[0] != weights[1]  # two seeds, two agents
    report = json.loads((out / "report.json").read_text())
    assert [r["seed"] for r in report["runs"]] == [0, 1]
    code, stdout, _ = run(*args[:-4], "--seeds", "0-2", "--out", str(out), "--serial")
    assert code == 0
    assert "2 of 3 seeds were already done (resumed)" in stdout
    assert (out / "seed-2" / "agent.zip").read_bytes() not in weights
    assert (out / "seed-0" / "agent.zip").read_bytes() == weights[0]  # not retrained

    # A second stage from each seed's agent: {seed} names each one's own starting point.
    tuned = tmp_path / "tuned"
    code, _, stderr = run(
        *args[:-6], "--init-from", str(out / "seed-{seed}"), "--seeds", "0-1",
        "--out", str(tuned), "--serial",
    )  # fmt: skip
    assert code == 0, stderr
    for seed in (0, 1):
        card = json.loads((tuned / f"seed-{seed}" / "card.json").read_text())
        source = out / f"seed-{seed}" / "agent.zip"
        assert card["init_from"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


def test_explain_whole_dataset_pools_every_slice(
    tiny_agent_dir: Path, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    from rl_workbench.data import Dataset

    distinct = len(dict.fromkeys(Dataset.open(tiny_dataset_dir).states()))
    out = tmp_path / "all"
    code, _, stderr = run(
        "explain", "--agent", str(tiny_agent_dir), "--env", "rlwb/Maze-v0",
        *[a for k, v in TINY_MAZE.items() for a in ("--env-arg", f"{k}={v}")],
        "--method", "nearest", "--data", str(tiny_dataset_dir), "--whole-dataset",
        "--slice", "100", "--out", str(out), "--workers", "2",
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["n"] == distinct
    slices = sorted(report["slices"], key=lambda s: s["start"])
    assert [s["start"] for s in slices] == list(range(0, distinct, 100))
    assert slices[-1]["stop"] == distinct
    items = [
        i for s in slices for i in json.loads((Path(s["out"]) / "report.json").read_text())["items"]
    ]
    assert len(items) == distinct
    valid = sum(bool(i["valid"]) for i in items) / distinct
    assert report["summary"]["validity"] == pytest.approx(valid)


def test_population_needs_agent_or_population_not_both() -> None:
    code, _, stderr = run("audit", "--suite", "corner", "--out", "x")
    assert code == 2 and "--population" in stderr and "Traceback" not in stderr
    code, _, stderr = run(
        "audit", "--agent", "zoo:maze-corner", "--population", "p.txt", "--suite", "corner",
        "--out", "x",
    )  # fmt: skip
    assert code == 2 and "one of the two" in stderr
    code, _, stderr = run("train", "--env", "rlwb/Maze-v0", "--seeds", "3-1", "--out", "x")
    assert code == 2 and "runs backwards" in stderr
