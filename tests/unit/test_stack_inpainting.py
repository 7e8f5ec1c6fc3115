"""The inpainting generator and the box edits ``diffusion`` makes with it (issue 12, section 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rl_workbench.counterfactual import make_method
from rl_workbench.counterfactual.stack_inpainting import StackInpaintingMethod
from rl_workbench.counterfactual.targets import parse_target
from rl_workbench.domains.atari import AtariDomain, AtariState
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import AtariInpainter, AtariInpainterSpec, load_generator_folder
from rl_workbench.generative.atari_inpainter import training_windows
from tests.helpers import BrightSpotAgent, dark_stack

SPEC = AtariInpainterSpec(env_id="ALE/Breakout-v5", patch=16)
FITS_16 = (((6, 10), 0.0), ((6, 10), 0.3), ((10, 14), 1.0), (14, 3.0))
"""The default attempts' schedule with boxes that fit the tiny inpainter's 16-pixel windows."""


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
        method = StackInpaintingMethod(generator=generator, patch=16, attempts=FITS_16)
        result = method.explain(state, agent, AtariDomain(), target)
        assert result.valid and agent.action_names[result.counterfactual_action] == "FIRE"
        rows, cols = np.nonzero((result.counterfactual_state.obs != state.obs).any(axis=-1))
        # One box of at most 14 pixels a side, around the agent's patch (rows/cols 40-45).
        assert rows.max() - rows.min() < 14 and cols.max() - cols.min() < 14
        assert 30 <= rows.min() and rows.max() <= 55 and 30 <= cols.min() and cols.max() <= 55
        if generator is None:
            assert result.generator_calls == 0
        else:
            assert 0 < result.generator_calls <= len(method.schedule) * method.steps


def test_an_inpainter_round_trips_and_picks_the_box_algorithm(tmp_path: Path) -> None:
    gen = _tiny()
    gen.save_pretrained(tmp_path / "inp")
    loaded = load_generator_folder(tmp_path / "inp")
    assert isinstance(loaded, AtariInpainter) and loaded.spec == SPEC
    for a, b in zip(gen.unet.parameters(), loaded.unet.parameters(), strict=True):
        assert torch.equal(a, b)
    assert isinstance(make_method("diffusion", generator=loaded), StackInpaintingMethod)


def test_boxes_wider_than_the_window_are_refused_in_one_line_or_left_out_of_the_default() -> None:
    with pytest.raises(InvalidArgumentError, match=r"Boxes of side \[20\] do not fit"):
        StackInpaintingMethod(generator=_tiny(), attempts=(((6, 20), 1.0),))
    with pytest.raises(InvalidArgumentError, match="prefer must be"):
        StackInpaintingMethod(generator=None, prefer="decisive")  # type: ignore[arg-type]
    small = StackInpaintingMethod(generator=_tiny())  # 16-pixel windows
    assert small.attempts is None and small.schedule[-1] == ((14,), 3.0)
    assert StackInpaintingMethod(generator=None).schedule[-1] == ((14, 20), 3.0)


def test_a_light_noise_and_denoise_keeps_the_box_near_what_it_was() -> None:
    gen = _tiny()
    torch.manual_seed(1)
    known = torch.rand(4, 4, 16, 16) * 2 - 1
    mask = torch.zeros(4, 1, 16, 16)
    mask[:, :, 4:10, 4:10] = 1.0
    noise = torch.randn(known.shape)
    light = gen.inpaint(known, mask, noise, steps=10, strength=0.05)
    full = gen.inpaint(known, mask, noise, steps=10)
    outside = mask.expand_as(known) == 0
    assert torch.equal(light[outside], known[outside]) and torch.equal(
        full[outside], known[outside]
    )
    inside = ~outside
    near = (light - known)[inside].abs().mean()
    redrawn = (full - known)[inside].abs().mean()
    assert near < 0.1 < redrawn  # the untrained UNet redraws from noise, far from the original


def test_persistent_falls_back_to_the_first_flip_when_no_flip_persists(monkeypatch) -> None:
    agent = BrightSpotAgent()
    state = AtariState(dark_stack())
    target = parse_target("any", agent.action_names)
    closest = StackInpaintingMethod(generator=_tiny(), patch=16, attempts=FITS_16)
    first = closest.explain(state, agent, AtariDomain(), target, seed=3)
    # A flip that survives a near-noiseless check persists: the same answer as ``closest``.
    kept = StackInpaintingMethod(
        generator=_tiny(), patch=16, attempts=FITS_16, prefer="persistent", purify=0.01
    ).explain(state, agent, AtariDomain(), target, seed=3)
    assert kept.valid and kept.counterfactual_state == first.counterfactual_state
    # When nothing persists, every attempt is tried and the first flip found is the answer.
    persistent = StackInpaintingMethod(
        generator=_tiny(), patch=16, attempts=FITS_16, prefer="persistent"
    )
    monkeypatch.setattr(StackInpaintingMethod, "_persistent", lambda *a, **k: None)
    fallback = persistent.explain(state, agent, AtariDomain(), target, seed=3)
    assert fallback.valid and fallback.counterfactual_state == first.counterfactual_state
    assert fallback.generator_calls == len(FITS_16) * persistent.steps > first.generator_calls


def test_purified_returns_the_generators_redraw_of_a_persistent_flip_checked_on_it() -> None:
    agent = BrightSpotAgent()
    state = AtariState(dark_stack())
    target = parse_target("any", agent.action_names)
    runs = {
        prefer: StackInpaintingMethod(
            generator=_tiny(), patch=16, attempts=FITS_16, prefer=prefer
        ).explain(state, agent, AtariDomain(), target, seed=3)
        for prefer in ("persistent", "purified")
    }
    guided, redrawn = runs["persistent"], runs["purified"]
    assert guided.valid and redrawn.valid
    assert agent.action_names[redrawn.counterfactual_action] == "FIRE"  # checked on the redraw
    # The same persistent flip, its box redrawn by the inpainter: different pixels, same box.
    differs = (redrawn.counterfactual_state.obs != guided.counterfactual_state.obs).any(axis=-1)
    edited = (guided.counterfactual_state.obs != state.obs).any(axis=-1)
    rows, cols = np.nonzero(edited)
    box = np.zeros_like(edited)
    box[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] = True
    assert differs.any() and not (differs & ~box).any()
