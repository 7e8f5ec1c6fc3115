"""``--method objects``: edits of game objects through the emulator's RAM, drawn by the game.

Uses the shipped Space Invaders and Breakout agents (loaded in a second, never trained here) and
states they meet in seeded games, because what is tested is the emulator: that a recorded moment
redraws the exact stack the agent saw, that an edited moment redraws the same stack every time,
that each named edit changes what it names, and that a saved counterfactual re-checks with the
agent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.agents import load_agent
from rl_workbench.counterfactual import parse_target, sample_states
from rl_workbench.counterfactual.objects import (
    NoObjectLayout,
    ObjectsMethod,
    check_objects_supported,
    render,
)
from rl_workbench.domains.atari import AtariDomain, AtariState
from rl_workbench.domains.atari_emulator import replayer_for
from rl_workbench.domains.atari_objects import breakout_bricks, layout_for
from tests.reliability.conftest import run_rlwb


@pytest.fixture(scope="module")
def invaders():
    loaded = load_agent("zoo:spaceinvaders-ppo")
    states = [s for s in sample_states(loaded, 4, 3) if s.moment is not None]
    assert len(states) >= 3
    return loaded, states


@pytest.fixture(scope="module")
def breakout():
    loaded = load_agent("zoo:breakout-ppo")
    states = [s for s in sample_states(loaded, 3, 0) if s.moment is not None]
    assert states
    return loaded, states


def _edit(state: AtariState, words: str):
    edits = layout_for(state.moment.env_id).edits(state.moment)
    matching = [e for e in edits if e.words == words]
    return matching[0] if matching else None


def test_a_recorded_moment_redraws_the_exact_stack_the_agent_saw(invaders, breakout) -> None:
    for _, states in (invaders, breakout):
        for state in states:
            redrawn = replayer_for(state.moment).render(state.moment)
            assert redrawn is not None and np.array_equal(redrawn, state.obs)


def test_an_edited_state_redraws_the_same_stack_twice(invaders) -> None:
    _, states = invaders
    state = states[0]
    edits = layout_for(state.moment.env_id).edits(state.moment)
    first = render(state.moment, edits[:1])
    # Another moment is replayed in between: nothing of it may leak into the next replay.
    replayer_for(states[1].moment).render(states[1].moment)
    second = render(state.moment, edits[:1])
    assert first is not None and second is not None
    assert np.array_equal(first.obs, second.obs)
    assert not np.array_equal(first.obs, state.obs)
    assert first.object_edits == (edits[0].words,)


def test_moving_the_cannon_moves_it_by_the_stated_distance(invaders) -> None:
    _, states = invaders
    for state in states:
        edit = _edit(state, "cannon moved 16 px right") or _edit(state, "cannon moved 16 px left")
        if edit is None:
            continue
        moved = render(state.moment, [edit])
        assert moved is not None

        def cannon_x(obs: np.ndarray) -> float:
            band = obs[72:78, :, 3] > 0  # the cannon's rows of the newest frame (84x84)
            cols = np.nonzero(band.any(axis=0))[0]
            return float(cols.mean())

        shift = cannon_x(moved.obs) - cannon_x(state.obs)
        expected = 16 * 84 / 160 * (1 if "right" in edit.words else -1)
        assert abs(shift - expected) < 3, (shift, expected)
        return
    pytest.fail("no state offered a 16 px cannon move")


def test_removing_an_invader_erases_one_invader_and_nothing_below(invaders) -> None:
    _, states = invaders
    state = states[0]
    removals = [
        e for e in layout_for(state.moment.env_id).edits(state.moment) if "invader row" in e.words
    ]
    assert removals
    removed = render(state.moment, removals[:1])
    assert removed is not None
    newest_before, newest_after = state.obs[..., 3], removed.obs[..., 3]
    lit_before = np.count_nonzero(newest_before[10:60])  # the invaders' part of the screen
    lit_after = np.count_nonzero(newest_after[10:60])
    assert 0 < lit_before - lit_after < 40  # one invader's worth of pixels, not a row


def test_breakout_bricks_are_measured_two_bits_each_in_six_rows() -> None:
    bricks = breakout_bricks()
    assert {row for row, _ in bricks} == set(range(6))
    assert {col for _, col in bricks} <= set(range(18))
    assert len(bricks) >= 100 and all(len(bits) == 2 for bits in bricks.values())


def test_removing_a_brick_leaves_a_gap_in_its_row(breakout) -> None:
    _, states = breakout
    state = states[0]
    edit = next(
        e for e in layout_for(state.moment.env_id).edits(state.moment) if "brick" in e.words
    )
    gone = render(state.moment, [edit])
    assert gone is not None
    diff = np.argwhere(gone.obs[..., 3] != state.obs[..., 3])
    assert len(diff) > 0
    # The brick wall spans rows ~22-37 of the 84x84 frame; the gap is inside it.
    assert 20 <= diff[:, 0].min() and diff[:, 0].max() <= 40


def test_an_objects_counterfactual_rechecks_with_the_agent(invaders) -> None:
    loaded, states = invaders
    agent = loaded.agent
    domain = AtariDomain(loaded.env_id)
    target = parse_target("any", agent.action_names)
    results = [ObjectsMethod().explain(s, agent, domain, target, seed=0) for s in states]
    valid = [r for r in results if r.valid]
    assert valid, [r.edits_in_words for r in results]
    for r in valid:
        with torch.no_grad():
            probs = agent.action_probs(domain.encode(r.counterfactual_state)[None])[0]
        assert int(probs.argmax()) == r.counterfactual_action != r.original_action
        assert r.edits == len(r.edits_in_words) >= 1
        # The words are the edits: replaying the named edits draws the same stack.
        named = layout_for(loaded.env_id).edits(r.original_state.moment)
        again = render(r.original_state.moment, [e for e in named if e.words in r.edits_in_words])
        assert again is not None and np.array_equal(again.obs, r.counterfactual_state.obs)


def test_a_state_without_a_moment_gets_no_objects_counterfactual(invaders) -> None:
    loaded, states = invaders
    bare = AtariState(states[0].obs)  # as read from a dataset: no emulator state
    result = ObjectsMethod().explain(
        bare,
        loaded.agent,
        AtariDomain(loaded.env_id),
        parse_target("any", loaded.agent.action_names),
    )
    assert result.counterfactual_state is None and not result.valid


def test_a_game_without_a_ram_layout_is_refused_by_name() -> None:
    with pytest.raises(NoObjectLayout, match=r"Pong-v5.*space_invaders"):
        check_objects_supported("ALE/Pong-v5")
    check_objects_supported("ALE/Breakout-v5")  # known: no error


def test_explain_objects_saves_stacks_that_recheck_and_says_each_edit(tmp_path: Path) -> None:
    out = tmp_path / "report"
    run = run_rlwb(
        "--threads",
        "1",
        "explain",
        "--agent",
        "zoo:spaceinvaders-ppo",
        "--method",
        "objects",
        "--n",
        "3",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert run.code == 0, run.err[-2000:]
    report = json.loads((out / "report.json").read_text())
    agent = load_agent("zoo:spaceinvaders-ppo").agent
    checked = 0
    for i, item in enumerate(report["items"]):
        if not item["valid"]:
            continue
        saved = np.load(out / "items" / f"item-{i:04d}.npz")["counterfactual"]
        with torch.no_grad():
            probs = agent.action_probs(torch.from_numpy(saved.astype(np.float32))[None])[0]
        assert agent.action_names[int(probs.argmax())] == item["counterfactual_action"]
        assert item["edits_in_words"] and all(
            w in (out / "report.md").read_text() for w in item["edits_in_words"]
        )
        checked += 1
    assert checked >= 1


def test_explain_objects_refuses_dataset_states_and_mazes(tmp_path: Path) -> None:
    run_rlwb(
        "explain",
        "--agent",
        "zoo:spaceinvaders-ppo",
        "--method",
        "objects",
        "--data",
        str(tmp_path),
        "--out",
        str(tmp_path / "r"),
    ).assert_refused("--method objects", "without --data")
    run_rlwb(
        "explain",
        "--agent",
        "zoo:maze-uniform",
        "--method",
        "objects",
        "--out",
        str(tmp_path / "m"),
    ).assert_refused("--method objects is not available", "rlwb/Maze-v0")


def test_a_moment_that_does_not_redraw_its_stack_gets_no_counterfactual(invaders) -> None:
    """A flip must come from the named edits, never from a replay that differs already."""
    loaded, states = invaders
    mismatched = AtariState(states[0].obs, moment=states[1].moment)
    result = ObjectsMethod().explain(
        mismatched,
        loaded.agent,
        AtariDomain(loaded.env_id),
        parse_target("any", loaded.agent.action_names),
    )
    assert result.counterfactual_state is None and not result.valid
