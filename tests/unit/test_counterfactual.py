"""Counterfactual methods: one interface, honest judging on decoded levels, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.counterfactual import (
    Target,
    count_edits,
    make_method,
    parse_target,
)
from rl_workbench.domains.maze import MazeDomain
from rl_workbench.envs.maze import MazeEnv
from rl_workbench.errors import InvalidArgumentError, UnknownNameError
from rl_workbench.generative import MazeGenerator
from tests.helpers import TINY_MAZE, CheeseCompassAgent


@pytest.fixture
def setup():
    env = MazeEnv(**TINY_MAZE)
    domain = MazeDomain.from_env(env)
    states = []
    for seed in range(6):
        env.reset(seed=seed)
        states.append(env.get_state())
    return env, domain, states


def _method(name: str, states, generator_dir: Path):
    generator = MazeGenerator.from_pretrained(generator_dir) if name == "diffusion" else None
    return make_method(name, generator=generator, pool=states)


@pytest.mark.parametrize("name", MazeDomain.methods)
def test_every_method_is_judged_on_the_decoded_level(name, setup, tiny_generator_dir) -> None:
    env, domain, states = setup
    agent = CheeseCompassAgent(world=5)
    method = _method(name, states, tiny_generator_dir)
    for i, state in enumerate(states[:3]):
        result = method.explain(state, agent, domain, Target("any"), seed=i)
        assert result.method == name
        if result.counterfactual_state is None:
            assert not result.valid
            continue
        cf = result.counterfactual_state
        # Restore the level in a real env and run the agent on the observation it emits.
        obs, _ = env.reset(options={"state": cf})
        probs = agent.action_probs(torch.as_tensor(obs)[None])[0]
        assert int(probs.argmax()) == result.counterfactual_action
        assert result.valid == (result.counterfactual_action != result.original_action)
        assert result.edits == count_edits(state, cf)
        assert cf.mouse == state.mouse  # methods edit the world, not the agent's position


def test_search_finds_a_single_cheese_move_for_the_compass(setup) -> None:
    _, domain, states = setup
    agent = CheeseCompassAgent(world=5)
    result = make_method("search").explain(states[0], agent, domain, Target("any"))
    assert result.valid and result.edits == 1 and result.seconds >= 0
    assert result.generator_calls == 0 and result.agent_calls > 1


def test_named_target_and_target_equal_to_original(setup) -> None:
    _, domain, states = setup
    agent = CheeseCompassAgent(world=5)
    state = states[0]
    original = int(agent.act(domain.encode(state))[0])
    search = make_method("search")
    with pytest.raises(InvalidArgumentError, match="already takes that action"):
        search.explain(state, agent, domain, Target("action", action=original))
    other = (original + 1) % 4
    result = search.explain(state, agent, domain, Target("action", action=other))
    assert result.valid == (result.counterfactual_action == other)


def test_pixel_validity_is_not_the_tensor_validity(setup) -> None:
    """pixel meets the target on its raw tensor; the verdict must come from the decoded level."""
    _, domain, states = setup
    agent = CheeseCompassAgent(world=5)
    for state in states:
        result = make_method("pixel").explain(state, agent, domain, Target("any"))
        obs = domain.encode(result.counterfactual_state)[None]
        assert int(agent.action_probs(obs)[0].argmax()) == result.counterfactual_action
        assert domain.is_on_distribution(result.counterfactual_state)


def test_value_targets(setup) -> None:
    _, domain, states = setup
    agent = CheeseCompassAgent(world=5)
    result = make_method("search").explain(states[1], agent, domain, Target("value-high"))
    assert result.valid and result.value_after >= result.value_before + 1.0


def test_result_json_lets_anyone_restore_and_check(setup) -> None:
    env, domain, states = setup
    agent = CheeseCompassAgent(world=5)
    result = make_method("search").explain(states[2], agent, domain, Target("any"))
    item = json.loads(json.dumps(result.to_dict(agent.action_names)))
    assert set(item) >= {
        "original_state",
        "counterfactual_state",
        "original_action",
        "target",
        "counterfactual_action",
        "probs_before",
        "probs_after",
        "valid",
        "edits",
        "seconds",
        "generator_calls",
    }
    obs, _ = env.reset(options={"state": item["counterfactual_state"]})
    action = agent.action_names[int(agent.action_probs(torch.as_tensor(obs)[None]).argmax())]
    assert action == item["counterfactual_action"]
    assert np.isclose(sum(item["probs_after"].values()), 1.0, atol=1e-5)


def test_parse_target_and_unknown_names() -> None:
    names = ("up", "down", "left", "right")
    assert parse_target("left", names) == Target("action", action=2)
    assert parse_target("value-low", names).kind == "value-low"
    with pytest.raises(InvalidArgumentError, match="Did you mean 'left'"):
        parse_target("lef", names)
    with pytest.raises(UnknownNameError, match="Valid choices"):
        make_method("difusion")
    with pytest.raises(InvalidArgumentError, match="needs a generator"):
        make_method("diffusion")
    with pytest.raises(InvalidArgumentError, match="--data DIR"):
        make_method("nearest")


def test_count_edits(setup) -> None:
    _, _, states = setup
    s = states[0]
    free = [c for c in s.free_cells() if c not in (s.mouse, s.cheese)]
    assert count_edits(s, s) == 0
    assert count_edits(s, s.move_cheese(free[0])) == 1
    wall = tuple(int(v) for v in np.argwhere(s.walls & s.maze_mask())[0])
    assert count_edits(s, s.move_cheese(free[0]).toggle_wall(wall)) == 2


def test_diffusion_decodes_with_the_agents_own_variant(tiny_generator_dir) -> None:
    """A generator fitted on sign-free levels still yields sign-on-cheese levels for a sign env."""
    env = MazeEnv(sign="on_cheese", **TINY_MAZE)
    domain = MazeDomain.from_env(env)
    method = make_method("diffusion", generator=MazeGenerator.from_pretrained(tiny_generator_dir))
    agent = CheeseCompassAgent(world=5)
    for seed in range(3):
        env.reset(seed=seed)
        result = method.explain(env.get_state(), agent, domain, Target("any"), seed=seed)
        cf = result.counterfactual_state
        assert cf is not None and cf.sign == cf.cheese and result.on_distribution


def test_maze_diffusion_keeps_the_fewest_edits_its_proposals_allow(setup) -> None:
    """The compass agent heads for the cheese, so one cheese move flips it: the minimality pass,
    scoring candidates in tiers of edit count, must return a one-edit level, never a larger one
    it also found."""
    from rl_workbench.counterfactual.level_diffusion import LevelDiffusionMethod

    _, domain, states = setup
    agent = CheeseCompassAgent(world=5)
    method = LevelDiffusionMethod(generator=None)
    edits = []
    for i, state in enumerate(states):
        result = method.explain(state, agent, domain, Target("any"), seed=i)
        if result.valid:
            edits.append(result.edits)
    assert len(edits) >= 4 and set(edits) == {1}
