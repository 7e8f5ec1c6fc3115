"""The rlwb command as a user runs it: help, errors without tracebacks, the main subcommands."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from rl_workbench.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--quiet", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_every_subcommand() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for name in (
        "demo",
        "train",
        "zoo",
        "collect",
        "inspect",
        "envs",
        "explain",
        "fit-generator",
        "fit-autoencoder",
        "audit",
    ):
        assert f"  {name}" in out


@pytest.mark.parametrize("module", ["rl_workbench.cli", "rl_workbench"])
def test_help_loads_no_torch(module: str) -> None:
    code = (
        f"import sys; from click.testing import CliRunner; import {module}; "
        "from rl_workbench.cli import cli; r = CliRunner().invoke(cli, ['--help']); "
        "assert r.exit_code == 0; print(sorted(m for m in ('torch', 'stable_baselines3', "
        "'diffusers', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_agents_package_loads_neither_textual_nor_diffusers() -> None:
    code = (
        "import sys, rl_workbench.agents, rl_workbench.data; "
        "print([m for m in ('textual', 'diffusers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_is_rlwb() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rl_workbench", "envs"], capture_output=True, text=True, check=True
    )
    assert "rlwb/MazeCorner-v0" in out.stdout and "MiniGrid-Empty-5x5-v0" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["collect", "--agent", "missing.zip", "--env", "rlwb/Maze-v0", "--out", "x"],
            "Cannot load agent: No agent at 'missing.zip'",
        ),
        (["zoo", "path", "maze-corners"], "Did you mean 'maze-corner'"),
        (["train", "--env", "rlwb/Mase-v0", "--out", "x"], "Unknown environment id 'rlwb/Mase-v0'"),
        (
            ["train", "--env", "rlwb/Maze-v0", "--env-arg", "cheese_region", "--out", "x"],
            "--env-arg takes KEY=VALUE",
        ),
        (
            ["train", "--env", "rlwb/Maze-v0", "--env-arg", "min_size=4", "--out", "x"],
            "odd integer in 3..25",
        ),
        (["inspect", "nowhere"], "no manifest.json"),
        (
            ["train", "--env", "rlwb/Maze-v0", "--hyperparameter", "lr=1e-4", "--out", "x"],
            "KEY one of n_envs, n_steps",
        ),
        (
            ["train", "--env", "rlwb/Maze-v0", "--hyperparameter", "gamma=1.5", "--out", "x"],
            "gamma must be a number in [0, 1], got '1.5'",
        ),
    ],
)
def test_bad_input_gives_one_clear_message_and_exit_2(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rl_workbench", "--quiet", *args], capture_output=True, text=True
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_collect_then_inspect(tiny_agent_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    code, stdout, _ = run(
        "collect",
        "--agent",
        str(tiny_agent_dir / "agent.zip"),
        "--n-states",
        "120",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert code == 0 and "120 states written" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["env_id"] == "rlwb/MazeCorner-v0" and manifest["seed"] == 3
    code, stdout, _ = run("inspect", str(out))
    assert code == 0
    assert "states    120" in stdout and "restorable MazeState" in stdout


def test_train_writes_agent_card_and_checkpoint(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where SB3 would put its log folder
    out = tmp_path / "run"
    code, stdout, _ = run(
        "train",
        "--env",
        "rlwb/Maze-v0",
        "--env-arg",
        "max_size=5",
        "--steps",
        "2048",
        "--eval-episodes",
        "4",
        "--hyperparameter",
        "learning_rate=1e-4",
        "--hyperparameter",
        "net_arch=[32]",
        "--out",
        str(out),
    )
    assert code == 0, stdout
    assert not [p for p in scratch.iterdir() if p.name.startswith("SB3-")]  # no stray log folder
    card = json.loads((out / "card.json").read_text())
    assert card["env_kwargs"] == {"max_size": 5} and card["total_steps"] == 2048
    assert card["hyperparameters"]["learning_rate"] == 1e-4
    assert card["hyperparameters"]["net_arch"] == [32]
    with zipfile.ZipFile(out / "agent.zip") as saved:  # what PPO itself was given
        data = json.loads(saved.read("data"))
    assert data["learning_rate"] == 1e-4
    assert data["policy_kwargs"]["net_arch"] == {"pi": [32], "vf": [32]}
    assert set(card["evaluation"]) == {"sampled", "greedy"}
    assert (out / "agent.zip").is_file() and (out / "README.md").read_text().startswith(
        "# Model card"
    )
    # Resuming with more steps continues from the saved step count, and the card's training
    # time covers both runs.
    code, _, _ = run(
        "train",
        "--env",
        "rlwb/Maze-v0",
        "--env-arg",
        "max_size=5",
        "--steps",
        "4096",
        "--eval-episodes",
        "4",
        "--hyperparameter",
        "learning_rate=1e-4",
        "--hyperparameter",
        "net_arch=[32]",
        "--out",
        str(out),
    )
    assert code == 0
    resumed = json.loads((out / "card.json").read_text())
    assert resumed["total_steps"] == 4096
    assert resumed["training_seconds"] > card["training_seconds"]


def test_demo_writes_pictures_and_report(
    tiny_agent_dir: Path, tiny_generator_dir: Path, tmp_path: Path
) -> None:
    from rl_workbench.demo import DemoConfig, run_demo

    config = DemoConfig(
        mazes=2,
        agents=(str(tiny_agent_dir), str(tiny_agent_dir)),
        cell_px=8,
        counterfactuals=2,
        generator=str(tiny_generator_dir),
        atari_counterfactuals=0,  # shown by test_demo_explains_atari_stacks
        object_counterfactuals=0,
        audit_mazes=20,
        large_agents=(str(tiny_agent_dir),),  # the section's code path, with a 7x7 agent
        large_mazes=1,
        large_audit_mazes=10,
    )
    folder = run_demo(tmp_path / "demo", config, progress=False)
    report = json.loads((folder / "report.json").read_text())
    assert len(report["episodes"]) == 5 and report["config"]["mazes"] == 2
    assert "versions" in report and "torch" in report["versions"]
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert pngs == ["large-maze-2024.png", "maze-2024.png", "maze-2025.png"]
    assert "![maze 2024](maze-2024.png)" in (folder / "report.md").read_text()
    assert set(report["counterfactuals"]) == {"tiny", "tiny (2)"}
    assert (folder / "counterfactuals-0-tiny" / "report.json").is_file()
    verdicts = ("pursues-goal", "pursues-proxy:corner", "not-competent", "inconclusive")
    assert set(report["audits"]) == {"tiny", "tiny (2)"}
    assert all(v in verdicts for v in report["audits"].values())
    assert (folder / "audit-0-tiny" / "report.md").is_file()
    assert (folder / "large-audit-0-tiny" / "report.md").is_file()
    assert "Procgen's easy scale" in (folder / "report.md").read_text()


def test_demo_explains_atari_stacks(
    tiny_agent_dir: Path, tiny_generator_dir: Path, tmp_path: Path
) -> None:
    from stable_baselines3 import PPO

    from rl_workbench.demo import DemoConfig, run_demo
    from rl_workbench.domains import make_env
    from rl_workbench.generative import AtariGenerator

    env = make_env("ALE/SpaceInvaders-v5")
    PPO("CnnPolicy", env, n_steps=16, batch_size=16, seed=0).save(tmp_path / "si.zip")
    atari_gen = AtariGenerator.for_env("ALE/SpaceInvaders-v5", (8, 8))
    atari_gen.save_pretrained(tmp_path / "si-gen")
    config = DemoConfig(
        mazes=1,
        agents=(str(tiny_agent_dir),),
        cell_px=8,
        counterfactuals=0,
        audit_suite="",
        atari_agent=str(tmp_path / "si.zip"),
        atari_env="ALE/SpaceInvaders-v5",
        atari_counterfactuals=1,
        atari_generator=str(tmp_path / "si-gen"),
        object_agents=("zoo:breakout-ppo",),
        object_counterfactuals=1,
        large_agents=(),
    )
    folder = run_demo(tmp_path / "demo", config, progress=False)
    report = json.loads((folder / "report.json").read_text())
    summary = report["atari_counterfactuals"]
    assert summary["n"] == 1 and 0.0 <= summary["sparsity"] <= 1.0
    text = (folder / "report.md").read_text()
    assert "counterfactuals-atari/items/item-0000.png" in text
    assert "counterfactuals-atari/items/item-0000.gif" in text
    assert (folder / "counterfactuals-atari" / "items" / "item-0000.npz").is_file()
    # The second game, explained by object edits the game itself draws, each said in words.
    assert "## Objects: breakout-ppo on ALE/Breakout-v5" in text and "Item 0: " in text
    assert report["object_counterfactuals"]["breakout-ppo"]["n"] == 1
    # ...and by diffusion with its shipped inpainter.
    assert report["more_atari_counterfactuals"]["breakout-ppo"]["n"] == 1
    assert "## Atari: breakout-ppo on ALE/Breakout-v5" in text


def test_zoo_list_shows_every_recipe() -> None:
    code, out, _ = run("zoo", "list")
    assert code == 0
    assert "maze-corner" in out and "maze-uniform" in out and "rlwb/MazeCorner-v0" in out
    assert "spaceinvaders-ppo" in out and "x random" in out


def test_explain_writes_items_that_can_be_checked(
    tiny_agent_dir: Path, tiny_generator_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cf"
    code, stdout, _ = run(
        "explain",
        "--agent",
        str(tiny_agent_dir),
        "--env",
        "rlwb/Maze-v0",
        "--env-arg",
        "min_size=3",
        "--env-arg",
        "max_size=5",
        "--method",
        "diffusion",
        "--generator",
        str(tiny_generator_dir),
        "--n",
        "3",
        "--out",
        str(out),
    )
    assert code == 0, stdout
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["method"] == "diffusion"
    assert report["summary"]["n"] + report["summary"]["skipped_target_equals_original"] == 3
    for i, item in enumerate(report["items"]):
        assert len(item["counterfactual_state"]["walls"]) == 5
        assert (out / "items" / f"item-{i:04d}.png").is_file()
    assert "| n | validity |" in (out / "report.md").read_text()


def test_explain_without_a_generator_names_the_fix(tiny_agent_dir: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rl_workbench",
            "explain",
            "--agent",
            str(tiny_agent_dir),
            "--generator",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "rlwb fit-generator" in proc.stderr


def test_explain_from_a_dataset_with_nearest(
    tiny_agent_dir: Path, tiny_dataset_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cf-nearest"
    code, stdout, _ = run(
        "explain",
        "--agent",
        str(tiny_agent_dir),
        "--env",
        "rlwb/Maze-v0",
        "--env-arg",
        "min_size=3",
        "--env-arg",
        "max_size=5",
        "--method",
        "nearest",
        "--data",
        str(tiny_dataset_dir),
        "--n",
        "4",
        "--out",
        str(out),
    )
    assert code == 0, stdout
    report = json.loads((out / "report.json").read_text())
    for item in report["items"]:
        assert item["generator_calls"] == 0
        if item["valid"]:
            assert item["counterfactual_action"] != item["original_action"]


def test_audit_writes_a_verdict_report(tiny_agent_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit"
    code, stdout, stderr = run(
        "audit", "--agent", str(tiny_agent_dir), "--suite", "corner", "--mazes", "30",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    restricted = report["P1"]["corner"]["restricted_mazes"]
    allowed = ["inconclusive", "not-competent"]
    if restricted >= 10:  # the suite's minimum: only then may it say what the agent pursues
        allowed += ["pursues-goal", "pursues-proxy:corner"]
    assert report["verdict"] in allowed, (restricted, report["summary"])
    assert report["proxy_pursuit"]["corner"]["n"] == restricted
    assert stdout.startswith(f"Verdict: {report['verdict']}")
    assert report["P1"]["corner"]["mazes"] == 30 and report["suite"]["name"] == "corner"
    assert report["suite"]["thresholds"]["proxy_rate"] == 0.25
    text = (out / "report.md").read_text()
    assert "![P1 outcomes, corner](p1-corner.png)" in text and (out / "p1-corner.png").is_file()


def test_audit_with_a_malformed_suite_names_the_line(tiny_agent_dir: Path, tmp_path: Path) -> None:
    suite = tmp_path / "bad.yaml"
    suite.write_text(
        "name: bad\ntraining:\n  env: rlwb/MazeCorner-v0\ntest:\n  env: rlwb/Maze-v0\n"
        "  mazes: -3\nproxies:\n  - kind: corner\n"
    )
    code, _, stderr = run(
        "audit", "--agent", str(tiny_agent_dir), "--suite", str(suite), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "Traceback" not in stderr
    assert f"{suite}:6: field 'test.mazes': expected a whole number" in stderr
    assert not (tmp_path / "o").exists()


def test_audit_of_a_goal_room_agent_counts_the_rooms_where_the_ways_part(tmp_path: Path) -> None:
    from rl_workbench.agents import train_ppo
    from rl_workbench.domains import make_env, minigrid_behaviour
    from rl_workbench.domains.minigrid import read_state
    from tests.helpers import tiny_train_config

    agent = tmp_path / "room-agent"
    config = tiny_train_config(
        env_id="rlwb/MiniGrid-GoalCorner-v0",
        env_kwargs={"size": 6},
        extractor="grid-cnn",
        imitation_samples=2_000,
        total_steps=0,
    )
    train_ppo(config, agent, name="room", command="pytest", progress=False)
    out = tmp_path / "audit"
    code, stdout, stderr = run(
        "audit", "--agent", str(agent), "--suite", "minigrid-corner", "--mazes", "40",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    # Room i is the test env's seed i, at the agent's own size (6, not the env's default 8).
    env = make_env("rlwb/MiniGrid-GoalRoom-v0", {"size": 6})
    forks = 0
    for i in range(40):
        env.reset(seed=i)
        forks += minigrid_behaviour.find_fork(read_state(env), "goal", "corner") is not None
    assert report["P1"]["corner"]["mazes"] == 40
    assert report["P1"]["corner"]["restricted_mazes"] == forks
    assert report["P2"]["corner"]["n"] == forks
    assert report["suite"]["goal"] == "goal" and stdout.startswith(f"Verdict: {report['verdict']}")
    text = (out / "report.md").read_text()
    assert "restricted rooms" in text and "TRUE (goal first)" in text
    assert (out / "p1-corner.png").is_file()


def test_train_help_names_every_tunable_setting_and_extractor() -> None:
    """The CLI spells these lists out (importing the trainer would load torch for every command);
    this keeps them from drifting from the ones the trainer accepts."""
    from rl_workbench.agents.train import EXTRACTORS, TUNABLE

    command = cli.commands["train"]
    params = {p.name: p for p in command.params}
    assert list(params["extractor"].type.choices) == list(EXTRACTORS)  # type: ignore[attr-defined]
    hyper_help = params["hyperparameters"].help or ""
    listed = hyper_help.split(":", 1)[1].split("(", 1)[0]
    assert sorted(k.strip(" .") for k in listed.split(",")) == sorted(TUNABLE)


def test_train_init_from_starts_ppo_from_the_given_agents_weights(tmp_path: Path) -> None:
    """`--init-from` is fine-tuning: the run's "initial" evaluation is the given agent's own
    (same weights, same evaluation seeds), a fresh network's would not be; a network of another
    shape is refused in one line."""
    base = ["train", "--env", "rlwb/Maze-v0", "--env-arg", "max_size=5", "--eval-episodes", "8"]
    source = tmp_path / "source"
    code, stdout, _ = run(*base, "--steps", "4096", "--out", str(source))
    assert code == 0, stdout
    tuned = tmp_path / "tuned"
    code, stdout, _ = run(*base, "--steps", "2048", "--init-from", str(source), "--out", str(tuned))
    assert code == 0, stdout
    card = json.loads((tuned / "card.json").read_text())
    made = json.loads((source / "card.json").read_text())
    assert (
        card["init_from"]["sha256"]
        == hashlib.sha256((source / "agent.zip").read_bytes()).hexdigest()
    )
    assert card["init_from"]["command"] == made["command"]
    assert card["evaluation"]["sampled, initial"] == made["evaluation"]["sampled"]
    assert card["evaluation"]["greedy, initial"] == made["evaluation"]["greedy"]
    assert card["total_steps"] == 2048 and "initialised from" in (tuned / "README.md").read_text()

    # A longer rerun resumes the checkpoint, which holds the starting weights already: it needs
    # the starting agent no more, and the card keeps the record made when it was read.
    source.rename(tmp_path / "moved")
    code, stdout, stderr = run(
        *base, "--steps", "4096", "--init-from", str(source), "--out", str(tuned)
    )  # fmt: skip
    assert code == 0, stderr
    resumed = json.loads((tuned / "card.json").read_text())
    assert resumed["total_steps"] == 4096 and resumed["init_from"] == card["init_from"]
    source = tmp_path / "moved"

    proc = subprocess.run(
        [sys.executable, "-m", "rl_workbench", "--quiet", *base, "--steps", "2048",
         "--init-from", str(source), "--hyperparameter", "net_arch=[32]",
         "--out", str(tmp_path / "other")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "its network differs" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
