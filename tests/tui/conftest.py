"""A small deck and scripted agents, so whole quiz sessions run in a second or two."""

from __future__ import annotations

from pathlib import Path

import pytest

from rl_workbench.agents import LoadedAgent
from rl_workbench.agents.flaws import plant_flaw
from rl_workbench.quiz.deck import Deck, Phase
from rl_workbench.quiz.items import QuizAgents
from tests.helpers import ScriptedMazeAgent

DECK = Deck(
    name="tiny",
    description="A tiny deck for tests.",
    env="rlwb/Maze-v0",
    agent="scripted",
    flawed_agent="scripted",
    phases=(
        Phase("study", 1),
        Phase("predict", 2, feedback=True),
        Phase("construct", 1, target="down", budget=3),
        Phase("spot", 2),
    ),
    digest="tiny-1",
)


def scripted_agents() -> QuizAgents:
    agent = ScriptedMazeAgent("cheese")
    main = LoadedAgent(agent, Path("scripted.zip"), None, "rlwb/Maze-v0", {})  # type: ignore[arg-type]
    return QuizAgents(main, plant_flaw(agent, "blind-cheese"))


@pytest.fixture
def agents() -> QuizAgents:
    return scripted_agents()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "quiz.sqlite"


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (Textual's loop) through anyio's pytest plugin."""
    return "asyncio"
