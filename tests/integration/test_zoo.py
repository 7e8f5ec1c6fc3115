"""The shipped zoo: every recipe is built, loads against its env, and does what its card says."""

from __future__ import annotations

import pytest

from rl_workbench.agents import RECIPES, ModelCard, evaluate, load_agent, zoo_folder, zoo_names
from rl_workbench.agents.card import AGENT_FILE

SUCCESS_BAR = 0.90
MAZE_ZOO = [n for n in zoo_names() if RECIPES[n].config.env_id.startswith("rlwb/")]


@pytest.mark.parametrize("name", MAZE_ZOO)
def test_zoo_agent_is_shipped_with_a_complete_card(name: str) -> None:
    folder = zoo_folder(name)
    assert (folder / AGENT_FILE).is_file(), f"run `rlwb zoo build {name}` and commit the result"
    card = ModelCard.load(folder)
    assert card.name == name and card.command.startswith(f"rlwb zoo build {name}")
    assert card.evaluation["sampled"]["episodes"] >= 200
    assert card.evaluation["sampled"]["success_rate"] >= SUCCESS_BAR
    # The 7x7 agents train in minutes (tests and the quick demo rely on it); procgen's easy scale
    # (15x15: solver imitation, then PPO) takes about an hour of one core.
    budget = 30 * 60 if card.observation_shape[-1] <= 7 else 120 * 60
    assert card.training_seconds < budget


@pytest.mark.parametrize("name", MAZE_ZOO)
def test_zoo_agent_succeeds_on_its_training_distribution(name: str) -> None:
    """A quick check (40 fresh episodes) that the committed weights behave as the card says."""
    loaded = load_agent(f"zoo:{name}")
    result = evaluate(loaded.agent, loaded.env_id, loaded.env_kwargs, episodes=40, seed=123)
    assert result.success_rate >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("name", MAZE_ZOO)
def test_zoo_agent_reaches_the_bar_over_200_episodes(name: str) -> None:
    loaded = load_agent(f"zoo:{name}")
    result = evaluate(loaded.agent, loaded.env_id, loaded.env_kwargs, episodes=200, seed=2_000_000)
    assert result.success_rate >= SUCCESS_BAR


@pytest.mark.parametrize("name", ["spaceinvaders-ppo", "breakout-ppo"])
def test_atari_agent_beats_three_times_random(name: str) -> None:
    """The committed Atari agents' cards: greedy score at least 3x a random policy's."""
    card = ModelCard.load(zoo_folder(name))
    greedy, random = card.evaluation["greedy"], card.evaluation["random"]
    assert greedy["episodes"] == random["episodes"] == 10
    assert greedy["mean_return"] >= 3 * random["mean_return"]
    assert card.command.startswith(f"rlwb zoo build {name} --steps {card.total_steps}")
    loaded = load_agent(f"zoo:{name}")
    assert loaded.agent.observation_space.shape == (84, 84, 4)
    assert loaded.agent.action_names[:2] == ("NOOP", "FIRE")


def test_breakout_agent_plays_as_its_card_says() -> None:
    """Three fresh whole games on the CPU: the committed weights still beat random by 3x."""
    from rl_workbench.agents.base import UniformRandomAgent

    loaded = load_agent("zoo:breakout-ppo")
    greedy = evaluate(loaded.agent, loaded.env_id, episodes=3, seed=7, greedy=True)
    names = loaded.agent.action_names
    random = evaluate(UniformRandomAgent(loaded.agent.observation_space, names), loaded.env_id,
                      episodes=3, seed=7)  # fmt: skip
    assert greedy.mean_return >= 3 * max(random.mean_return, 1.0)


def test_atari_generators_are_shipped_and_explain_the_zoo_agent(tmp_path) -> None:
    """Each game's inpainter (diffusion's default) and whole-stack generator (+ the latent
    method's vae/) load, match the agent, and carry their cards."""
    import json

    from rl_workbench.counterfactual import ExplainConfig, run_explain
    from rl_workbench.counterfactual.explain import load_method_model
    from rl_workbench.generative import AtariAutoencoder, AtariInpainter
    from rl_workbench.generative.zoo import GENERATOR_ZOO_DIR

    for name in (
        "spaceinvaders-generator",
        "spaceinvaders-inpainter",
        "breakout-generator",
        "breakout-inpainter",
    ):
        folder = GENERATOR_ZOO_DIR / name
        card = (folder / "README.md").read_text()
        assert f"rlwb zoo build {name}" in card and "realism" in card
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        assert size < 20 * 2**20  # small enough to commit
    loaded = load_agent("zoo:spaceinvaders-ppo")
    generator = load_method_model("diffusion", loaded, None, "zoo:spaceinvaders-ppo")
    autoencoder = load_method_model("latent", loaded, None, "zoo:spaceinvaders-ppo")
    assert isinstance(generator, AtariInpainter) and isinstance(autoencoder, AtariAutoencoder)
    assert generator.spec.env_id == autoencoder.spec.env_id == loaded.env_id
    breakout = load_agent("zoo:breakout-ppo")
    inpainter = load_method_model("diffusion", breakout, None, "zoo:breakout-ppo")
    assert isinstance(inpainter, AtariInpainter) and inpainter.spec.env_id == breakout.env_id
    breakout_vae = load_method_model("latent", breakout, None, "zoo:breakout-ppo")
    assert isinstance(breakout_vae, AtariAutoencoder)
    assert breakout_vae.spec.env_id == breakout.env_id
    summary = run_explain(
        loaded, tmp_path / "cf", ExplainConfig(n=2, seed=1), generator=generator, progress=False
    )
    report = json.loads((tmp_path / "cf" / "report.json").read_text())
    assert summary["n"] == 2 and len(report["items"]) == 2
    # Edits stay local: one box of at most 20x20 (the default attempts' largest) of 84x84 frames.
    assert summary["sparsity"] >= 1 - 20 * 20 / 84**2


def test_a_generator_build_honours_steps_and_resumes_from_its_collected_states(
    tmp_path, monkeypatch
) -> None:
    """`rlwb zoo build NAME --steps N` fits N steps; an interrupted build keeps its collected
    states and continues from them; nothing of the build's scaffolding is left in the folder."""
    import json

    from rl_workbench.agents import load_agent
    from rl_workbench.data import CollectConfig, Dataset, collect
    from rl_workbench.generative import FitConfig
    from rl_workbench.generative import zoo as generator_zoo
    from rl_workbench.generative.folder import dataset_identity

    tiny = generator_zoo.GeneratorRecipe(
        "tiny-generator",
        "zoo:maze-uniform",
        "rlwb/Maze-v0",
        120,
        FitConfig(steps=50, batch_size=4, block_out_channels=(8, 8), checkpoint_every=2),
    )
    monkeypatch.setitem(generator_zoo.GENERATOR_RECIPES, "tiny-generator", tiny)
    out = tmp_path / "gen"
    # what an interrupted build leaves: its states (here from another seed, to tell them apart)
    collect(
        load_agent("zoo:maze-uniform", "rlwb/Maze-v0"),
        out / generator_zoo.TRAINING_STATES,
        CollectConfig(n_states=120, seed=7),
        progress=False,
    )
    kept = Dataset.open(out / generator_zoo.TRAINING_STATES).manifest
    generator_zoo.build_zoo_generator("tiny-generator", out, steps=3, progress=False)
    fit = json.loads((out / "fit.json").read_text())
    assert fit["config"]["steps"] == 3  # the override, not the recipe's 50
    assert fit["dataset_identity"] == dataset_identity(kept)  # reused, not collected again
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "fit.json",
        "generator.json",
        "quality.json",
        "scheduler",
        "unet",
    ]
    assert "3 steps" in (out / "README.md").read_text()
