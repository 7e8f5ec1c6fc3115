"""Issue 12, section 0: honest Atari states and legal counterfactual stacks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rl_workbench.counterfactual.explain import summarise
from rl_workbench.counterfactual.stack_diffusion import MaskedGradientMethod
from rl_workbench.counterfactual.targets import parse_target
from rl_workbench.domains import make_env
from rl_workbench.domains.atari import (
    GREY_LEVELS,
    AtariDomain,
    AtariState,
    game_over,
    new_game,
    padding_frames,
)
from tests.helpers import BrightSpotAgent, dark_stack

GAME = "ALE/SpaceInvaders-v5"


def _random_act(obs: np.ndarray, rng: np.random.Generator) -> int:
    return int(rng.integers(6))


def _lose_a_life(env) -> None:
    rng = np.random.default_rng(1)
    while True:
        *_, terminated, truncated, _ = env.step(int(rng.integers(6)))
        if terminated or truncated:
            assert not game_over(env)  # the first of three lives
            return


def test_new_game_is_a_fresh_seeded_game_even_after_a_lost_life() -> None:
    """SB3's EpisodicLifeEnv turns reset(seed) after a lost life into a continuation."""
    env = make_env(GAME)
    fresh = new_game(make_env(GAME), seed=7)
    new_game(env, seed=3)
    _lose_a_life(env)
    np.testing.assert_array_equal(new_game(env, seed=7), fresh)
    # What plain reset(seed) does there: the running game goes on, not game 7.
    new_game(env, seed=3)
    _lose_a_life(env)
    continued, _ = env.reset(seed=7)
    assert not np.array_equal(continued, fresh)


def test_sampled_atari_states_are_distinct_fresh_games() -> None:
    domain = AtariDomain(GAME)
    env = make_env(GAME)
    states = domain.sample_states(env, _random_act, 8, seed=0)
    again = domain.sample_states(make_env(GAME), _random_act, 3, seed=0)
    assert states[:3] == again  # seeded, one game after another
    assert len(set(states)) == 8
    # Uniform over 0-199 steps: a stack with padding frames (3 per life) is rare.
    assert sum(padding_frames(s.obs) > 0 for s in states) <= 2
    # Two seeds' openings are different screens or drawn at most once.
    openings = {AtariState(new_game(env, seed=k)) for k in range(2)}
    assert sum(s in openings for s in states) <= 1


def _stack_with_padding(pad: int, seed: int) -> AtariState:
    rng = np.random.default_rng(seed)
    obs = rng.integers(0, 134, size=(84, 84, 4)).astype(np.uint8)
    obs[:20, :20, :] = 77  # a static block across all frames
    obs[..., :pad] = 0
    return AtariState(obs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pad=st.integers(0, 3),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.0, 400.0),
    shift=st.floats(-100.0, 100.0),
)
def test_decode_like_is_always_legal(pad: int, seed: int, scale: float, shift: float) -> None:
    domain = AtariDomain(GAME)
    like = _stack_with_padding(pad, seed)
    x = torch.randn(84, 84, 4, generator=torch.Generator().manual_seed(seed)) * scale + shift
    x[0, 0, 0] = float("nan") if seed % 7 == 0 else x[0, 0, 0]
    out = domain.decode_like(x, like)
    allowed = set(GREY_LEVELS[GAME]) | set(np.unique(like.obs).tolist())
    assert set(np.unique(out.obs).tolist()) <= allowed
    assert not out.obs[..., :pad].any()  # padding frames stay exactly black
    assert domain.legality_violations(like, out)["total"] == 0
    assert set(np.unique(domain.decode(x).obs).tolist()) <= set(GREY_LEVELS[GAME])


def test_violations_count_planted_speckles() -> None:
    domain = AtariDomain(GAME)
    original = _stack_with_padding(2, seed=0)
    assert domain.legality_violations(original, original)["total"] == 0
    cf = original.obs.copy()
    cf[40, 40, 0] = 60  # a speckle in a padding frame
    cf[41, 41, 1] = 5
    cf[50, 50, 3] = 250  # a grey level Space Invaders never shows
    cf[5, 5, 3] = 10  # a static pixel flickers in the newest frame only
    found = domain.legality_violations(original, AtariState(cf))
    assert found == {"padding": 2, "grey_levels": 1, "time": 1, "total": 4}
    black_newest = original.obs.copy()
    black_newest[..., 3] = 0  # no real frame is all black
    assert domain.legality_violations(original, AtariState(black_newest))["padding"] == 84 * 84


def test_masked_gradient_runs_without_a_generator_and_is_judged_on_the_legal_stack() -> None:
    agent = BrightSpotAgent()
    domain = AtariDomain(GAME)
    method = MaskedGradientMethod()
    state = AtariState(dark_stack())
    result = method.explain(state, agent, domain, parse_target("any", agent.action_names))
    assert result.method == "masked-gradient" and result.generator_calls == 0
    assert result.valid and agent.action_names[result.counterfactual_action] == "FIRE"
    assert domain.legality_violations(state, result.counterfactual_state)["total"] == 0
    rows, cols = np.nonzero((result.counterfactual_state.obs != state.obs).any(axis=-1))
    assert rows.min() >= 38 and rows.max() <= 47 and cols.min() >= 38 and cols.max() <= 47
    summary = summarise([result], 0, domain)
    assert summary["violating"] == 0.0 and summary["distinct_counterfactuals"] == 1
    from rl_workbench.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="without a generator"):
        MaskedGradientMethod(generator=object())  # type: ignore[arg-type]
