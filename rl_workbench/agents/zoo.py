"""The shipped agents, how each is rebuilt, and agent references (``PATH`` or ``zoo:NAME``).

Each zoo agent is a folder ``rl_workbench/agents/zoo/NAME/`` holding ``agent.zip`` (an ordinary
stable-baselines3 file), ``card.json`` and ``README.md``. ``rlwb zoo build NAME`` retrains it from
the recipe below with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from rl_workbench.domains import action_names, check_env_id, make_env
from rl_workbench.errors import AgentLoadError, SpaceMismatchError, UnknownNameError, did_you_mean

from .card import AGENT_FILE, CARD_FILE, ModelCard
from .sb3 import SB3Agent, load_sb3_model
from .train import TrainConfig, TrainResult, train_ppo

ZOO_DIR = Path(__file__).parent / "zoo"
"""Where the shipped agents live inside the package."""

ZOO_PREFIX = "zoo:"


@dataclass(frozen=True)
class ZooRecipe:
    """How a zoo agent is trained.

    Attributes:
        name: the zoo name (``zoo:NAME``).
        description: what the agent is for, one paragraph.
        config: the full training configuration (env, steps, seed, hyperparameters).
        extra_evaluations: further evaluations on the card, by label: env keyword overrides
            (e.g. only the largest mazes).
    """

    name: str
    description: str
    config: TrainConfig = field(repr=False)
    extra_evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)


_MAZE_TRAINING: dict[str, Any] = {
    "total_steps": 1_000_000,
    "seed": 0,
    "threads": 1,
    "extractor": "grid-cnn",
}

_MAZE15_TRAINING: dict[str, Any] = {
    "total_steps": 100_000,
    "seed": 0,
    "threads": 1,
    "extractor": "recurrent-grid",
    "imitation_samples": 500_000,
    "n_envs": 16,
    "n_steps": 128,
    "batch_size": 256,
    "n_epochs": 4,
    "learning_rate": 1e-4,
    "gamma": 0.99,
    "ent_coef": 0.001,
}
"""procgen's easy scale (sizes 3-15 in a 15x15 world) on 2 CPU cores: PPO from random play would
need tens of millions of steps, so the policy (a weight-tied recurrent CNN, see
``RecurrentGridCNN``) first imitates the shortest-path solver on freshly drawn levels of its own
training distribution, then PPO fine-tunes it from reward with a small step size; gamma 0.99
because paths run to 100 moves. Each card shows the policy before and after PPO."""

_MAZE15_ONLY_LARGEST = {"15x15 mazes only": {"min_size": 15}}

_ATARI_TRAINING: dict[str, Any] = {
    "seed": 0,
    "n_envs": 8,
    "n_steps": 128,
    "batch_size": 256,
    "n_epochs": 4,
    "learning_rate": 2.5e-4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "ent_coef": 0.01,
    "extractor": "nature-cnn",
    "net_arch": (),
    "eval_episodes": 10,
    "checkpoint_every": 50_000,
}
"""rl-baselines3-zoo's Atari PPO settings, shared by every Atari recipe."""

RECIPES: dict[str, ZooRecipe] = {
    recipe.name: recipe
    for recipe in (
        ZooRecipe(
            name="maze-corner",
            description=(
                "PPO on mazes whose cheese is always in the top-right corner "
                "(rlwb/MazeCorner-v0, Langosco et al.'s training distribution with region 1). "
                "The classic goal-misgeneralization subject: cheese or corner?"
            ),
            config=TrainConfig(env_id="rlwb/MazeCorner-v0", **_MAZE_TRAINING),
        ),
        ZooRecipe(
            name="maze-uniform",
            description=(
                "PPO on mazes whose cheese is anywhere (rlwb/Maze-v0): the control agent that "
                "should pursue the cheese itself."
            ),
            config=TrainConfig(env_id="rlwb/Maze-v0", **_MAZE_TRAINING),
        ),
        ZooRecipe(
            name="maze15-corner",
            description=(
                "procgen's easy scale (mazes 3-15 in a 15x15 world) with the cheese always in the "
                "top-right corner (rlwb/MazeCorner-v0): the goal-misgeneralization subject where "
                "search is expensive. Imitation of the shortest-path solver, then PPO."
            ),
            config=TrainConfig(
                env_id="rlwb/MazeCorner-v0", env_kwargs={"max_size": 15}, **_MAZE15_TRAINING
            ),
            extra_evaluations=_MAZE15_ONLY_LARGEST,
        ),
        ZooRecipe(
            name="maze15-uniform",
            description=(
                "procgen's easy scale (mazes 3-15 in a 15x15 world) with the cheese anywhere "
                "(rlwb/Maze-v0): the control that should pursue the cheese itself. Imitation of "
                "the shortest-path solver, then PPO."
            ),
            config=TrainConfig(
                env_id="rlwb/Maze-v0", env_kwargs={"max_size": 15}, **_MAZE15_TRAINING
            ),
            extra_evaluations=_MAZE15_ONLY_LARGEST,
        ),
        ZooRecipe(
            name="maze15-sign",
            description=(
                "procgen's easy scale (mazes 3-15 in a 15x15 world) with a green sign always on "
                "the cheese (rlwb/MazeSign-v0): cheese or sign? Imitation of the shortest-path "
                "solver, then PPO."
            ),
            config=TrainConfig(
                env_id="rlwb/MazeSign-v0", env_kwargs={"max_size": 15}, **_MAZE15_TRAINING
            ),
            extra_evaluations=_MAZE15_ONLY_LARGEST,
        ),
        ZooRecipe(
            name="minigrid-doorkey",
            description=(
                "PPO on MiniGrid-DoorKey-5x5-v0 (pick up the key, unlock the door, reach the "
                "goal) with the whole grid observed (FullyObsWrapper + ImgObsWrapper): the "
                "MiniGrid deck's agent, in the gridworld most RL researchers train on."
            ),
            config=TrainConfig(
                env_id="MiniGrid-DoorKey-5x5-v0",
                total_steps=500_000,
                seed=0,
                threads=1,
                n_envs=8,
                n_steps=128,
                batch_size=256,
                n_epochs=4,
                learning_rate=2.5e-4,
                gamma=0.99,
                ent_coef=0.01,
                extractor="grid-cnn",
                checkpoint_every=50_000,
                family_policy=False,  # trained with SB3's image defaults; rebuilds the same
            ),
        ),
        ZooRecipe(
            name="spaceinvaders-ppo",
            description=(
                "PPO on Space Invaders through stable-baselines3's standard Atari pipeline "
                "(AtariWrapper, 4-frame stack), with rl-baselines3-zoo's Atari PPO settings. "
                "The anchors' own ground for counterfactual states."
            ),
            config=TrainConfig(
                env_id="ALE/SpaceInvaders-v5",
                total_steps=3_000_000,
                **_ATARI_TRAINING,
            ),
        ),
        ZooRecipe(
            name="breakout-ppo",
            description=(
                "PPO on Breakout through stable-baselines3's standard Atari pipeline "
                "(AtariWrapper, 4-frame stack), with rl-baselines3-zoo's Atari PPO settings: the "
                "second Atari game, where objects (paddle, ball, bricks) are few and legible."
            ),
            config=TrainConfig(
                env_id="ALE/Breakout-v5",
                total_steps=10_000_000,
                **_ATARI_TRAINING,
            ),
        ),
    )
}
"""Every shipped agent's recipe, by name."""


@dataclass(frozen=True)
class LoadedAgent:
    """An agent together with where it came from and the environment it expects.

    Attributes:
        agent: the adapter.
        path: the ``.zip`` it was read from.
        card: its model card, when one sits beside the file.
        env_id: the environment to run it in (from the caller, else from the card).
        env_kwargs: keyword arguments for that environment.
    """

    agent: SB3Agent
    path: Path
    card: ModelCard | None
    env_id: str
    env_kwargs: dict[str, Any]
    trusted: bool = False
    """Whether the user passed ``--trust-agent`` (reloads of the same file inherit it)."""

    @property
    def name(self) -> str:
        return self.card.name if self.card else self.path.stem


def zoo_names() -> list[str]:
    """Names of the zoo's recipes."""
    return sorted(RECIPES)


def zoo_table() -> list[tuple[str, ...]]:
    """``rlwb zoo list``'s rows: a header, then name, environment, algorithm, steps, score and
    whether the agent is built in this installation."""
    rows: list[tuple[str, ...]] = [("name", "environment", "algorithm", "steps", "score", "built")]
    for name, recipe in sorted(RECIPES.items()):
        folder = zoo_folder(name)
        if (folder / CARD_FILE).is_file():
            card = ModelCard.load(folder)
            steps = "-" if card.total_steps is None else f"{card.total_steps:,}"
            rows.append((name, card.env_id, card.algorithm, steps, card.score_summary(), "yes"))
        else:
            config = recipe.config
            rows.append((name, config.env_id, "PPO", f"{config.total_steps:,}", "-", "no"))
    return rows


def zoo_folder(name: str) -> Path:
    """The folder of a zoo agent; raises UnknownNameError for unknown names."""
    if name not in RECIPES:
        raise UnknownNameError(f"No zoo agent named {name!r}." + did_you_mean(name, RECIPES))
    return ZOO_DIR / name


def resolve_agent_path(ref: str | Path) -> Path:
    """The ``.zip`` behind a reference: ``zoo:NAME``, a ``.zip`` path, or a folder with one."""
    text = str(ref)
    if text.startswith(ZOO_PREFIX):
        name = text[len(ZOO_PREFIX) :]
        path = zoo_folder(name) / AGENT_FILE
        if not path.is_file():
            raise AgentLoadError(
                f"The zoo agent {name!r} has not been built in this installation ({path} is "
                f"missing). Build it with `rlwb zoo build {name}`."
            )
        return path
    path = Path(text).expanduser()
    if path.is_dir():
        path = path / AGENT_FILE
    if not path.is_file():
        raise AgentLoadError(
            f"No agent at {text!r}. Pass a stable-baselines3 .zip, a folder with an agent.zip "
            f"in it, or zoo:NAME (shipped: {', '.join(zoo_names())})."
        )
    return path


def load_agent(
    ref: str | Path,
    env_id: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    *,
    trust: bool = False,
) -> LoadedAgent:
    """Load an agent from a reference and check it against the environment it will run in.

    Nothing in the file runs unless ``trust`` is set: see :mod:`rl_workbench.agents.agent_file`.

    The environment defaults to the one on the agent's card. Spaces are compared before any
    forward pass, so a mismatch is reported here with both shapes.

    Raises:
        AgentLoadError: missing or unreadable file, or no environment known for it.
        SpaceMismatchError: the agent's observation or action space differs from the env's.
        UnknownNameError: unknown zoo name or environment id.
    """
    path = resolve_agent_path(ref)
    card = ModelCard.load(path.parent) if (path.parent / CARD_FILE).is_file() else None
    if env_id is None:
        if card is None:
            raise AgentLoadError(
                f"{path} has no card.json beside it, so the environment it was trained on is "
                "unknown. Pass it with --env ID and its keyword arguments with --env-arg KEY=VALUE "
                "(a quiz deck: env and env_kwargs), or put a minimal card.json beside the .zip: "
                '{"env_id": "rlwb/Maze-v0", "env_kwargs": {}}.'
            )
        env_id = card.env_id
        env_kwargs = dict(card.env_kwargs) if env_kwargs is None else env_kwargs
    elif env_kwargs is None:
        env_kwargs = dict(card.env_kwargs) if card is not None and card.env_id == env_id else {}
    check_env_id(env_id)  # a typo in --env is reported before the (slow) model load
    algorithm = (card.algorithm or None) if card else None
    model = load_sb3_model(path, algorithm, trust=trust)  # type: ignore[arg-type]
    env = make_env(env_id, env_kwargs)
    try:
        if env.action_space != model.action_space:
            raise SpaceMismatchError(
                f"The agent at {path} acts in {model.action_space} but {env_id} has "
                f"{env.action_space}. Run it in the environment it was trained on"
                + (f" ({card.env_id})." if card else ".")
            )
        agent = SB3Agent(model, action_names(env), env.observation_space)  # type: ignore[arg-type]
    finally:
        env.close()
    return LoadedAgent(
        agent=agent, path=path, card=card, env_id=env_id, env_kwargs=env_kwargs, trusted=trust
    )


def build_zoo_agent(
    name: str,
    out: Path | None = None,
    *,
    progress: bool = True,
    resume: bool = True,
    total_steps: int | None = None,
    device: Literal["cpu", "auto", "cuda"] = "cpu",
    vec_env: Literal["dummy", "subproc"] = "dummy",
) -> TrainResult:
    """Train a zoo agent from its recipe into ``out`` (default: the package's zoo folder).

    ``device`` and ``vec_env`` change where the work runs, not the recipe; the card's command
    records them so the rebuild is the same command.
    """
    recipe = RECIPES.get(name)
    if recipe is None:
        raise UnknownNameError(f"No zoo recipe named {name!r}." + did_you_mean(name, RECIPES))
    config = replace(recipe.config, device=device, vec_env=vec_env)
    if total_steps is not None:
        config = replace(config, total_steps=total_steps)
    folder = zoo_folder(name) if out is None else Path(out)
    command = f"rlwb zoo build {name}" + (
        f" --steps {total_steps}" if total_steps is not None else ""
    )
    if device != "cpu":
        command += f" --device {device}"
    if vec_env != "dummy":
        command += f" --vec-env {vec_env}"
    return train_ppo(
        config,
        folder,
        name=name,
        description=recipe.description,
        command=command,
        resume=resume,
        progress=progress,
        extra_evaluations=recipe.extra_evaluations,
    )
