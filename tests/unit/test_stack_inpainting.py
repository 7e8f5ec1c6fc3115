"""The inpainting generator and the box edits ``diffusion`` makes with it (issue 12, section 3)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rl_workbench.counterfactual import make_method
from rl_workbench.counterfactual.stack_inpainting import StackInpaintingMethod, _wanted_actions
from rl_workbench.counterfactual.targets import parse_target
from rl_workbench.domains.atari import AtariDomain, AtariState
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.generative import (
    AtariInpainter,
    AtariInpainterSpec,
    GeneratorLoadError,
    load_generator_folder,
)
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


def _tiny_conditioned(actions: int = 4) -> AtariInpainter:
    torch.manual_seed(0)
    gen = AtariInpainter.create(
        AtariInpainterSpec(env_id="ALE/Breakout-v5", patch=16, actions=actions), (8, 16)
    )
    torch.nn.init.normal_(gen.unet.class_embedding.weight)  # as if fitted: labels matter
    return gen


def test_a_conditioned_inpainter_round_trips_and_old_folders_load_unconditioned(
    tmp_path: Path,
) -> None:
    gen = _tiny_conditioned()
    gen.save_pretrained(tmp_path / "cond")
    loaded = load_generator_folder(tmp_path / "cond")
    assert isinstance(loaded, AtariInpainter) and loaded.spec.actions == 4 and loaded.conditioned
    assert torch.equal(loaded.unet.class_embedding.weight, gen.unet.class_embedding.weight)
    # A folder written before conditioning existed has no "actions" key: unconditioned.
    _tiny().save_pretrained(tmp_path / "old")
    spec_file = tmp_path / "old" / "generator.json"
    spec_file.write_text(spec_file.read_text().replace('"actions": 0', '"unused": 0'))
    old = load_generator_folder(tmp_path / "old")
    assert isinstance(old, AtariInpainter) and not old.conditioned
    # A spec that disagrees with the weights is refused, not silently misread.
    spec_file = tmp_path / "cond" / "generator.json"
    spec_file.write_text(spec_file.read_text().replace('"actions": 4', '"actions": 5'))
    with pytest.raises(
        GeneratorLoadError, match=r"has 5 class embeddings but generator\.json describes 6"
    ):
        load_generator_folder(tmp_path / "cond")


def test_classifier_free_guidance_mixes_the_labelled_and_unlabelled_estimates() -> None:
    gen = _tiny_conditioned()
    torch.manual_seed(2)
    x_t, known = torch.randn(3, 4, 16, 16), torch.rand(3, 4, 16, 16) * 2 - 1
    mask = torch.zeros(3, 1, 16, 16)
    mask[..., 4:10, 4:10] = 1.0
    t = torch.tensor([900, 500, 100])
    labels = torch.tensor([0, 1, 3])
    with torch.no_grad():
        with_label = gen.predict_noise(x_t, known, mask, t, labels)
        without = gen.predict_noise(x_t, known, mask, t)
        mixed = gen._guided_noise(x_t, known, mask, t, labels, 3.0)
        other = gen.predict_noise(x_t, known, mask, t, torch.tensor([2, 2, 2]))
    assert not torch.allclose(with_label, without) and not torch.allclose(with_label, other)
    torch.testing.assert_close(mixed, without + 3.0 * (with_label - without))
    # An unconditioned inpainter ignores labels: the estimate without any.
    plain = _tiny()
    with torch.no_grad():
        torch.testing.assert_close(
            plain._guided_noise(x_t, known, mask, t, labels, 3.0),
            plain.predict_noise(x_t, known, mask, t),
        )


def test_a_conditioned_inpainter_trains_on_one_label_per_stack() -> None:
    gen = _tiny_conditioned()
    states = [AtariState(dark_stack(seed)) for seed in range(4)]
    with pytest.raises(ValueError, match="one action label per stack"):
        gen.training_loss(states, np.random.default_rng(0))
    loss = gen.training_loss(states, np.random.default_rng(0), [0, 1, 2, 3])
    loss.backward()  # the labels reach the class embedding
    assert gen.unet.class_embedding.weight.grad is not None
    assert gen.unet.class_embedding.weight.grad[:4].abs().sum() > 0


def test_the_edit_draws_boxes_for_the_target_action_or_the_agents_likelier_others() -> None:
    agent = BrightSpotAgent()
    state = AtariState(dark_stack())
    gen = _tiny_conditioned(len(agent.action_names))
    seen: list[torch.Tensor] = []
    inpaint = gen.inpaint

    def recording(*args, labels=None, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(labels)
        return inpaint(*args, labels=labels, **kwargs)

    gen.inpaint = recording  # type: ignore[method-assign]
    method = StackInpaintingMethod(generator=gen, patch=16, attempts=(((6,), 0.0),), samples=2)
    named = agent.action_names[-1]
    method.explain(state, agent, AtariDomain(), parse_target(named, agent.action_names))
    assert set(seen[-1].tolist()) == {len(agent.action_names) - 1}
    result = method.explain(state, agent, AtariDomain(), parse_target("any", agent.action_names))
    assert set(seen[-1].tolist()) == {1 - result.original_action}  # the one other action
    assert result.generator_calls == 2 * method.steps  # both estimates each step


def test_for_any_other_action_the_boxes_are_drawn_for_the_likelier_others_first() -> None:
    logits = torch.tensor([[0.5, 3.0, -1.0, 2.0, 0.0]])
    query = SimpleNamespace(
        steer=parse_target("any", ("a", "b", "c", "d", "e")),
        agent=SimpleNamespace(action_logits=lambda obs: logits),
        state=AtariState(dark_stack()),
        original_action=1,
    )
    assert _wanted_actions(query) == [3, 0, 4, 2]  # type: ignore[arg-type]
    query.steer = parse_target("c", ("a", "b", "c", "d", "e"))
    assert _wanted_actions(query) == [2]  # type: ignore[arg-type]
    query.steer = parse_target("value-high", ("a", "b", "c", "d", "e"))
    assert _wanted_actions(query) == []  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="label_scale must be"):
        StackInpaintingMethod(generator=None, label_scale=-1.0)
