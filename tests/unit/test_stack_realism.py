"""The matched realism judge, persistence and transfer on tiny data (seconds each)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rl_workbench.counterfactual.stack_realism import (
    ReferencePool,
    bootstrap_auc,
    match_reference,
    matched_realism,
    persistence,
    realism_controls,
    roc_auc,
    transfer,
    two_sample_auc,
)
from rl_workbench.domains.atari import AtariDomain, AtariState
from rl_workbench.generative import AtariGenerator, AtariGeneratorSpec
from tests.helpers import BrightSpotAgent, dark_stack

SPEC = AtariGeneratorSpec(env_id="ALE/Breakout-v5", padded_size=88)


def _real(n: int, seed: int) -> list[AtariState]:
    """Dark stacks with grey sprites; the oldest frame is padding (pure black), as at an
    episode's start."""
    out = []
    for i in range(n):
        obs = dark_stack(seed * 1000 + i)
        obs[..., 0] = 0
        out.append(AtariState(obs))
    return out


def _speckled(states: list[AtariState], seed: int) -> list[AtariState]:
    """A few bright speckles drawn into the padding frame, which real stacks keep black."""
    rng = np.random.default_rng(seed)
    out = []
    for s in states:
        obs = s.obs.copy()
        for _ in range(4):
            r, c = (int(v) for v in rng.integers(0, 82, size=2))
            obs[r : r + 2, c : c + 2, 0] = 255
        out.append(AtariState(obs))
    return out


def test_roc_auc_counts_ties_as_half() -> None:
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(labels, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(labels, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert roc_auc(labels, np.zeros(4)) == 0.5


def test_bootstrap_interval_contains_the_estimate_and_narrows_with_more_data() -> None:
    rng = np.random.default_rng(0)

    def estimate(n: int):
        labels = np.repeat([0, 1], n)
        scores = rng.normal(size=2 * n) + 0.8 * labels
        return bootstrap_auc(labels, scores, n_boot=500, seed=0)

    small, large = estimate(20), estimate(400)
    for e in (small, large):
        assert e.low <= e.auc <= e.high
    assert large.high - large.low < 0.5 * (small.high - small.low)
    assert 0.65 < large.auc < 0.80  # Phi(0.8 / sqrt 2) = 0.71


def test_planted_artefact_is_found_and_real_vs_real_is_at_chance() -> None:
    clean = _real(40, seed=1)
    planted = _speckled(_real(40, seed=2), seed=0)
    found = two_sample_auc(clean, planted, judge="cnn", epochs=10, seed=0, n_boot=300)
    assert found.auc > 0.95 and found.low > 0.85
    control = two_sample_auc(clean, _real(40, seed=3), judge="cnn", epochs=10, n_boot=300)
    assert control.covers(0.5)


def test_repeated_stacks_are_judged_once() -> None:
    """Real stacks repeated (as ``nearest`` repeats them) are not recognised across folds."""
    clean, other = _real(40, seed=16), _real(10, seed=17)
    repeated = two_sample_auc(clean, other * 4, judge="cnn", epochs=10, n_boot=300)
    assert repeated.n_positive == 10 and repeated.covers(0.5)


def test_probe_on_the_agents_features_finds_what_the_agent_sees() -> None:
    """BrightSpotAgent's features are its logits: dim speckles in its patch move them (found),
    speckles elsewhere do not (at chance)."""
    agent = BrightSpotAgent()
    clean = _real(30, seed=4)
    in_patch = []
    for k, s in enumerate(_real(30, seed=5)):
        obs = s.obs.copy()
        obs[40 + k % 6, 40:43, :] = 30  # lit rises, the action stays NOOP
        in_patch.append(AtariState(obs))
    found = two_sample_auc(clean, in_patch, judge="probe", agent=agent, n_boot=300)
    assert found.auc > 0.95
    elsewhere = _speckled(_real(30, seed=6), seed=1)
    blind = two_sample_auc(clean, elsewhere, judge="probe", agent=agent, n_boot=300)
    assert blind.covers(0.5)


def test_reference_is_matched_on_action_and_drawn_without_replacement() -> None:
    pool_actions = np.array([0, 0, 1, 1, 1, 2])
    items, drawn = match_reference([1, 1, 0, 3, 1, 1], pool_actions, np.random.default_rng(0))
    # Item 3 (action 3) finds no match, nor one of the four action-1 items (the pool has three).
    assert len(items) == 4 and 3 not in items and 2 in items
    assert len(set(drawn)) == len(drawn)
    actions = [1, 1, 0, 3, 1, 1]
    assert [int(pool_actions[j]) for j in drawn] == [actions[i] for i in items]


def test_reference_matches_the_agents_confidence_when_given() -> None:
    """Among stacks with the item's action, the one the agent is as sure about is drawn."""
    pool_actions = np.array([1, 1, 1, 0])
    pool_confidences = np.array([0.95, 0.40, 0.70, 0.41])
    rng = np.random.default_rng(0)
    items, drawn = match_reference([1, 1], pool_actions, rng, None, [0.42, 0.9], pool_confidences)
    assert items == [0, 1] and drawn == [1, 0]


def test_matched_test_and_controls_on_a_pool() -> None:
    """Counterfactuals with speckles are found; both controls (real stacks) sit at chance."""
    agent, domain = BrightSpotAgent(), AtariDomain()
    explained = _real(10, seed=7)
    pool = ReferencePool.build(agent, domain, _real(120, seed=8) + explained, exclude=explained)
    assert len(pool.states) == 120 and not set(explained) & set(pool.states)
    fakes = _speckled(_real(40, seed=9), seed=2)
    result = matched_realism(agent, domain, fakes, pool, epochs=10)
    assert result.n_matched == 40 and result.cnn is not None and result.cnn.low > 0.8
    controls = realism_controls(agent, domain, _real(40, seed=10), pool, epochs=10)
    assert controls.computed and not controls.failures()


def test_too_few_items_give_no_figure() -> None:
    agent, domain = BrightSpotAgent(), AtariDomain()
    pool = ReferencePool.build(agent, domain, _real(30, seed=11))
    result = matched_realism(agent, domain, _real(5, seed=12), pool)
    assert result.cnn is None and result.probe is None and result.cell("cnn") == "n/a"


def _lit(state: AtariState) -> AtariState:
    obs = state.obs.copy()
    obs[40:46, 40:46, :] = 255
    return AtariState(obs)


def test_a_real_change_persists_through_noise_and_denoise() -> None:
    """A stack that really shows what the agent acts on (the patch fully lit) keeps the flip
    after a light noise-and-denoise, even by an untrained generator; strength 0 is the identity."""
    agent, domain = BrightSpotAgent(), AtariDomain()
    torch.manual_seed(0)
    generator = AtariGenerator.create(SPEC, block_out_channels=(8, 8))
    originals = _real(3, seed=13)
    changed = [_lit(s) for s in originals]
    light = persistence(generator, agent, domain, originals, changed, strength=0.1, seed=0)
    assert light.share == 1.0 and light.generator_calls > 0
    same = persistence(generator, agent, domain, originals, changed, strength=0.0)
    assert same.share == 1.0 and same.generator_calls == 0
    # An unchanged stack keeps no flip: there was none to keep.
    none = persistence(generator, agent, domain, originals, originals, strength=0.0)
    assert none.share == 0.0


def test_transfer_to_the_same_agent_equals_validity() -> None:
    agent, domain = BrightSpotAgent(), AtariDomain()
    originals = _real(4, seed=14)
    counterfactuals: list[AtariState | None] = [_lit(originals[0]), _lit(originals[1]), None, None]
    valid = [True, True, False, False]
    same = transfer(agent, domain, originals, counterfactuals, valid)
    assert same.share_of_pairs == pytest.approx(np.mean(valid)) and same.share_of_valid == 1.0
    # An agent blind to the patch (always NOOP) is never moved.
    blind = BrightSpotAgent()
    blind.action_logits = lambda obs: torch.tensor([[1.0, 0.0]]).expand(len(obs), 2)  # type: ignore[method-assign]
    moved = transfer(blind, domain, originals, counterfactuals, valid)
    assert moved.share_of_valid == 0.0 and moved.n_valid == 2


def test_sb3_features_are_the_policy_extractor_output() -> None:
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from rl_workbench.agents.sb3 import SB3Agent

    class Stacks(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
        action_space = gym.spaces.Discrete(3)

        def reset(self, *, seed=None, options=None):
            return np.zeros((84, 84, 4), np.uint8), {}

        def step(self, action):
            return np.zeros((84, 84, 4), np.uint8), 0.0, True, False, {}

    model = PPO("CnnPolicy", make_vec_env(Stacks, 1), n_steps=8, batch_size=8, seed=0)
    agent = SB3Agent(model, observation_space=Stacks.observation_space)
    obs = torch.from_numpy(np.stack([s.obs for s in _real(2, seed=15)]).astype(np.float32))
    with torch.no_grad():
        features = agent.features(obs)
        expected = model.policy.features_extractor(obs.permute(0, 3, 1, 2) / 255.0)
    assert features.shape == (2, 512)
    torch.testing.assert_close(features, expected)


@pytest.fixture(scope="module")
def breakout(tmp_path_factory: pytest.TempPathFactory):
    """An untrained SB3 PPO agent of the standard Breakout pipeline, loaded."""
    from stable_baselines3 import PPO

    from rl_workbench.agents import load_agent
    from tests.unit.test_atari import GAME, _sb3_stack

    model = PPO("CnnPolicy", _sb3_stack(GAME, seed=0), n_steps=16, batch_size=16, seed=0)
    path = tmp_path_factory.mktemp("realism") / "breakout_ppo.zip"
    model.save(path)
    return load_agent(path, GAME)


def test_explain_says_when_too_few_items_for_the_matched_test(breakout, tmp_path) -> None:
    from rl_workbench.counterfactual import ExplainConfig, run_explain

    config = ExplainConfig(method="pixel", n=3, pictures=False)
    run_explain(breakout, tmp_path / "r", config, progress=False)
    text = (tmp_path / "r" / "report.md").read_text()
    assert "Matched realism (issue 12): not computed" in text and "at least 20" in text


@pytest.mark.slow
def test_explain_reports_the_matched_auc_with_both_controls(breakout, tmp_path) -> None:
    import json

    from rl_workbench.counterfactual import ExplainConfig, run_explain

    config = ExplainConfig(method="pixel", n=24, pool_size=400, pictures=False)
    run_explain(breakout, tmp_path / "r", config, progress=False)
    text = (tmp_path / "r" / "report.md").read_text()
    assert "control: a disjoint reference draw" in text and "control: nearest's outputs" in text
    data = json.loads((tmp_path / "r" / "report.json").read_text())["matched_realism"]
    assert set(data) == {"counterfactuals", "controls"}
