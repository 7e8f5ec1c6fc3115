"""One way to name an agent in every command: --agent REF, --env ID, --env-arg K=V.

The subject is what a researcher brings: a plain stable-baselines3 PPO maze agent, trained with
``PPO("MlpPolicy", make_vec_env(...))`` and saved with ``model.save``, with no card; then the same
zip with a hand-written minimal card.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rl_workbench.cli import cli
from tests.helpers import TINY_MAZE

ENV = ["--env", "rlwb/Maze-v0", "--env-arg", "min_size=3", "--env-arg", "max_size=5"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--quiet", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def plain_agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A researcher's own agent: plain SB3, a few hundred steps, no card."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    import rl_workbench  # noqa: F401  (registers rlwb/Maze-v0)

    vec_env = make_vec_env("rlwb/Maze-v0", n_envs=2, seed=0, env_kwargs=TINY_MAZE)
    model = PPO("MlpPolicy", vec_env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(128)
    path = tmp_path_factory.mktemp("plain") / "my_agent.zip"
    model.save(path)
    return path


def test_audit_of_a_plain_agent_via_env(plain_agent: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit"
    code, stdout, stderr = run(
        "audit", "--agent", str(plain_agent), *ENV, "--suite", "corner", "--mazes", "3",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] in stdout
    assert report["agent"]["env_kwargs"] == TINY_MAZE


def test_explain_of_a_plain_agent_via_env(plain_agent: Path, tmp_path: Path) -> None:
    out = tmp_path / "cf"
    code, _, stderr = run(
        "explain", "--agent", str(plain_agent), *ENV, "--method", "search", "--n", "2",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    assert len(report["items"]) == 2
    assert all(item["original_state"]["maze_size"] <= 5 for item in report["items"])


@pytest.mark.parametrize("command", ["audit", "explain", "collect"])
def test_without_env_the_message_names_options_that_exist(
    plain_agent: Path, tmp_path: Path, command: str
) -> None:
    extra = {"audit": ["--suite", "corner"], "explain": [], "collect": []}[command]
    code, _, stderr = run(
        command, "--agent", str(plain_agent), *extra, "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "--env ID" in stderr and "--env-arg" in stderr and "card.json" in stderr
    _, help_text, _ = run(command, "--help")
    assert "--env ID" in help_text and "--env-arg" in help_text


def test_a_minimal_card_fills_in_the_env(plain_agent: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "agent.zip").write_bytes(plain_agent.read_bytes())
    (folder / "card.json").write_text(
        json.dumps({"env_id": "rlwb/Maze-v0", "env_kwargs": TINY_MAZE})
    )
    code, _, stderr = run(
        "collect", "--agent", str(folder), "--n-states", "20", "--out", str(tmp_path / "d")
    )
    assert code == 0, stderr
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["env_id"] == "rlwb/Maze-v0" and manifest["env_kwargs"] == TINY_MAZE
    from rl_workbench.agents import load_agent

    loaded = load_agent(folder)
    assert loaded.card is not None and loaded.card.is_minimal and loaded.name == "mine"
    assert loaded.agent.algorithm == "PPO"


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({"env_kwargs": {}}, '"env_id"'),
        ({"env_id": "rlwb/Maze-v0", "envkwargs": {}}, "unknown key(s) 'envkwargs'"),
        ({"env_id": "rlwb/Maze-v0", "algorithm": "SAC"}, "\"algorithm\" is 'SAC'"),
        ({"env_id": "rlwb/Maze-v0", "env_kwargs": [1]}, '"env_kwargs" must be an object'),
        (["not", "an", "object"], "not a JSON object"),
    ],
)
def test_a_bad_hand_written_card_is_one_line(
    plain_agent: Path, tmp_path: Path, card: object, message: str
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "agent.zip").write_bytes(plain_agent.read_bytes())
    (folder / "card.json").write_text(json.dumps(card))
    code, _, stderr = run(
        "collect", "--agent", str(folder), "--n-states", "5", "--out", str(tmp_path / "d")
    )
    assert code == 2
    assert message in stderr and "minimal card" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_a_quiz_deck_takes_a_plain_agent_with_env(plain_agent: Path) -> None:
    from rl_workbench.quiz.deck import parse_deck
    from rl_workbench.quiz.items import load_quiz_agents

    deck = parse_deck(
        f"""
name: mine
description: my own agent
env: rlwb/Maze-v0
env_kwargs: {{min_size: 3, max_size: 5}}
agent: {plain_agent}
flawed_agent:
  agent: {plain_agent}
  flaw: blind-cheese
seed: 0
conditions: [control]
phases:
  - kind: predict
    items: 2
"""
    )
    agents = load_quiz_agents(deck)
    assert agents.main.path == plain_agent and agents.main.env_kwargs == TINY_MAZE
    assert agents.main.agent.action_names == ("up", "down", "left", "right")
