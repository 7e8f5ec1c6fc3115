"""The inpainting generator and the box edits ``diffusion`` makes with it (issue 12, section 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rl_workbench.counterfactual import make_method
from rl_workbench.counterfactual.stack_inpainting import StackInpaintingMethod
from rl_workbench.counterfactual.targets import parse_target
from rl_workbench.domains.atari import AtariDomain, AtariState
from rl_workbench.generative import AtariInpainter, AtariInpainterSpec, load_generator_folder
from rl_workbench.generative.atari_inpainter import training_windows
from tests.helpers import BrightSpotAgent, dark_stack

SPEC = AtariInpainterSpec(env_id="ALE/Breakout-v5", patch=16)


def _tiny(seed: int = 0) -> AtariInpainter:
    torch.manual_seed(seed)
    return AtariInpainter.create(SPEC, block_out_channels=(8, 16))


def test_training_windows_mask_boxes_inside_the_window_mostly_on_objects() -> None:
    states = [AtariState(dark_stack(seed)) for seed in range(64)]
    windows, masks = training_windows(states, 16, np.random.default_rng(0))
    assert windows.shape == (64, 16, 16, 4) and masks.shape == (64, 16, 16)
    sides = masks.sum(axis=(1, 2))
    assert sides.min() >= 9 and sides.max() <= 256  # 3x3 up to the whole window
    on_object = np.mean(
        [(w.any(axis=-1) & (m > 0)).any() for w, m in zip(windows, masks, strict=True)]
    )
    assert on_object > 0.6  # most boxes cover something lit (dark_stack is mostly black)


def test_the_inpainting_loss_falls_when_fitted_on_one_kind_of_scene() -> None:
    gen = _tiny()
    states = [AtariState(dark_stack(seed)) for seed in range(32)]
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(gen.unet.parameters(), lr=3e-3)
    losses = []
    gen.unet.train()
    for _ in range(60):
        loss = gen.training_loss(states, rng)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])


def test_box_edits_change_only_one_box_and_flip_the_scripted_agent() -> None:
    agent = BrightSpotAgent()
    state = AtariState(dark_stack())
    target = parse_target("any", agent.action_names)
    for generator in (_tiny(), None):  # an (untrained) inpainter, and the no-model ablation
        method = StackInpaintingMethod(generator=generator, patch=16)
        result = method.explain(state, agent, AtariDomain(), target)
        assert result.valid and agent.action_names[result.counterfactual_action] == "FIRE"
        rows, cols = np.nonzero((result.counterfactual_state.obs != state.obs).any(axis=-1))
        # One box of at most 14 pixels a side, around the agent's patch (rows/cols 40-45).
        assert rows.max() - rows.min() < 14 and cols.max() - cols.min() < 14
        assert 30 <= rows.min() and rows.max() <= 55 and 30 <= cols.min() and cols.max() <= 55
        if generator is None:
            assert result.generator_calls == 0
        else:
            assert 0 < result.generator_calls <= len(method.attempts) * method.steps


def test_an_inpainter_round_trips_and_picks_the_box_algorithm(tmp_path: Path) -> None:
    gen = _tiny()
    gen.save_pretrained(tmp_path / "inp")
    loaded = load_generator_folder(tmp_path / "inp")
    assert isinstance(loaded, AtariInpainter) and loaded.spec == SPEC
    for a, b in zip(gen.unet.parameters(), loaded.unet.parameters(), strict=True):
        assert torch.equal(a, b)
    assert isinstance(make_method("diffusion", generator=loaded), StackInpaintingMethod)
