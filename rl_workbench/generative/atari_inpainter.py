"""A mask-conditioned inpainting diffusion model of Atari frame-stack patches (issue 12, s. 3).

Why patches and masks: the whole-stack generator (``atari_generator.py``), at a size a CPU fits,
never learned to draw Space Invaders frames, and the counterfactual method only ever re-noised a
few scattered salient pixels, which it could not make look like anything (issue 12: its edits
were told from real stacks at AUC 0.76, no better than with no model). An edit that means
something to the game replaces a *region* (where an invader, a shot or the cannon is or could be)
with what the game could show there, given everything around it. That is inpainting, and it is
local: the UNet sees a ``patch`` x ``patch`` window of all four frames, the window with the region
blanked, and the region's mask, and predicts the noise inside the region (diffusers'
``UNet2DModel`` with 9 input channels, as in diffusers' inpainting pipelines, which concatenate
the masked image and the mask to the noisy latents).

Training (:meth:`AtariInpainter.training_loss`): random windows of real stacks, centred on a lit
pixel most of the time (most of a Space Invaders screen is black), with a random box masked; the
loss is DDPM's noise prediction, inside the box only.

An inpainter may also be conditioned on the agent's action (``spec.actions``): each training
window carries the action the agent takes on its whole stack (a class label, diffusers' class
embedding; dropped to a "no label" class a share of the time), and at edit time classifier-free
guidance (Ho and Salimans 2022) draws the box as the game would look *where the agent takes the
target action*. The flip then comes from what the data says goes with that action, not from a
push along one network's gradient (issue 12: guided boxes are what the realism judges catch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from diffusers import DDIMScheduler, UNet2DModel

from rl_workbench.domains.atari import AtariState

from .folder import (
    GENERATOR_FILE,
    VERSION,
    GeneratorLoadError,
    load_weights,
    make_scheduler,
    make_unet,
    read_spec,
    save_folder,
)

FORMAT = "rlwb-atari-inpainter"

BOX_SIDES = (3, 16)
"""Sides (pixels of the 84x84 frame) of the boxes masked in training, inclusive."""

ON_OBJECT = 0.8
"""Share of training windows and boxes centred on a lit pixel (the rest anywhere)."""

UNLABELLED = 0.2
"""Share of a conditioned inpainter's training windows shown with the "no label" class, so that
one model gives both estimates classifier-free guidance mixes."""


@dataclass(frozen=True)
class AtariInpainterSpec:
    """What an inpainter models (saved as generator.json).

    Attributes:
        env_id: the game the training stacks came from.
        size: frame side (84).
        frames: frames per stack (4).
        patch: the window side the UNet sees.
        actions: the agent's action count the model is conditioned on (class labels
            ``0..actions-1``, ``actions`` meaning no label); 0: not conditioned.
    """

    env_id: str
    size: int = 84
    frames: int = 4
    patch: int = 32
    actions: int = 0

    @property
    def class_embeds(self) -> int | None:
        """diffusers' ``num_class_embeds``: one per action plus the "no label" class."""
        return self.actions + 1 if self.actions else None

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}


def make_inpainting_unet(
    frames: int,
    patch: int,
    block_out_channels: tuple[int, ...],
    num_class_embeds: int | None = None,
) -> UNet2DModel:
    """Input: noisy window, blanked window, mask (2 k + 1 channels); output: the noise (k)."""
    return make_unet(
        frames,
        patch,
        block_out_channels,
        in_channels=2 * frames + 1,
        num_class_embeds=num_class_embeds,
    )


def to_unit(obs: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 stacks [..., H, W, k] (0-255) -> channels-first floats [..., k, H, W] in [-1, 1]."""
    x = (
        obs.float()
        if isinstance(obs, torch.Tensor)
        else torch.from_numpy(np.array(obs, np.float32))
    )
    return x.movedim(-1, -3) / 127.5 - 1.0


def from_unit(x: torch.Tensor) -> torch.Tensor:
    """Channels-first [-1, 1] -> the agent's layout [..., H, W, k], 0-255 (float)."""
    return ((x + 1.0) * 127.5).movedim(-3, -1)


class AtariInpainter:
    """A fitted (or fresh) inpainting model of one game's stack windows."""

    family: ClassVar[str] = "atari"
    """The domain family it models (the domain registry's key)."""
    edit_algorithm: ClassVar[str] = "atari-inpainting"
    """Which diffusion algorithm edits with it (``counterfactual/diffusion.py``'s table)."""

    def __init__(
        self, unet: UNet2DModel, scheduler: DDIMScheduler, spec: AtariInpainterSpec
    ) -> None:
        self.unet = unet.eval()
        self.scheduler = scheduler
        self.spec = spec

    @classmethod
    def create(
        cls, spec: AtariInpainterSpec, block_out_channels: tuple[int, ...] = (32, 64, 64)
    ) -> AtariInpainter:
        if spec.patch % (2 ** (len(block_out_channels) - 1)):
            raise ValueError(
                f"patch {spec.patch} must be divisible by {2 ** (len(block_out_channels) - 1)}"
            )
        return cls(
            make_inpainting_unet(spec.frames, spec.patch, block_out_channels, spec.class_embeds),
            make_scheduler(),
            spec,
        )

    @property
    def conditioned(self) -> bool:
        """Whether the model draws boxes for a given action (``spec.actions``)."""
        return self.spec.actions > 0

    def predict_noise(
        self,
        x_t: torch.Tensor,
        known: torch.Tensor,
        mask: torch.Tensor,
        t: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The UNet's noise estimate for windows ``x_t`` [B, k, p, p] given the known window
        (blanked inside the mask), the mask [B, 1, p, p] and, for a conditioned model, the
        action labels [B] (None: the "no label" class)."""
        blanked = known * (1 - mask) - mask  # the region reads as black (-1)
        if self.conditioned and labels is None:
            labels = torch.full((len(x_t),), self.spec.actions, dtype=torch.long)
        return self.unet(torch.cat([x_t, blanked, mask], dim=1), t, class_labels=labels).sample

    def _guided_noise(
        self,
        x_t: torch.Tensor,
        known: torch.Tensor,
        mask: torch.Tensor,
        t: torch.Tensor,
        labels: torch.Tensor | None,
        label_scale: float,
    ) -> torch.Tensor:
        """Classifier-free guidance: ``eps(none) + s (eps(label) - eps(none))``, both estimates
        in one batched call; unconditioned models and ``labels=None`` give ``eps(none)``."""
        if labels is None or not self.conditioned:
            return self.predict_noise(x_t, known, mask, t)
        if label_scale == 1.0:
            return self.predict_noise(x_t, known, mask, t, labels)
        none = torch.full_like(labels, self.spec.actions)
        both = self.predict_noise(
            torch.cat([x_t, x_t]),
            torch.cat([known, known]),
            torch.cat([mask, mask]),
            torch.cat([t, t]),
            torch.cat([labels, none]),
        )
        with_label, without = both.chunk(2)
        return without + label_scale * (with_label - without)

    def inpaint(
        self,
        known: torch.Tensor,
        mask: torch.Tensor,
        noise: torch.Tensor,
        steps: int = 10,
        guide: Callable[[torch.Tensor], torch.Tensor] | None = None,
        strength: float = 1.0,
        labels: torch.Tensor | None = None,
        label_scale: float = 1.0,
    ) -> torch.Tensor:
        """Redraw the masked boxes of windows ``known`` [B, k, p, p] (in [-1, 1]): DDIM from
        ``noise`` inside the boxes over ``steps`` steps, the known part re-noised to each step's
        level outside them (RePaint). ``guide`` maps each step's clean estimate to the one the
        step is taken from (guidance); the result keeps ``known`` exactly outside the boxes.
        ``strength`` < 1 starts from the boxes' own content noised to that level and takes only
        the steps below it (a light noise-and-denoise, DP-DQN's purification). ``labels`` [B]
        (a conditioned model only) draws each box for that action, with classifier-free
        guidance of scale ``label_scale``."""
        scheduler = self.scheduler
        scheduler.set_timesteps(steps)
        timesteps = list(scheduler.timesteps)
        if strength < 1.0:  # start from the box as it is, noised to ``strength`` (SDEdit)
            t_max = strength * scheduler.config.num_train_timesteps
            timesteps = [t for t in timesteps if t <= t_max] or timesteps[-1:]
            start = scheduler.add_noise(known, noise, timesteps[0].reshape(1))
        else:
            start = noise
        x = mask * start + (1 - mask) * known
        x0_hat = known
        for i, t in enumerate(timesteps):
            x_in = mask * x + (1 - mask) * scheduler.add_noise(known, noise, t.reshape(1))
            with torch.no_grad():
                eps = self._guided_noise(
                    x_in, known, mask, t.repeat(len(x_in)), labels, label_scale
                )
            alpha = scheduler.alphas_cumprod[t]
            x0_hat = ((x_in - (1 - alpha).sqrt() * eps) / alpha.sqrt()).clamp(-1, 1)
            x0_hat = (mask * x0_hat + (1 - mask) * known).detach()
            if guide is not None:
                x0_hat = guide(x0_hat)
            if i + 1 < len(timesteps):
                eps = (x_in - alpha.sqrt() * x0_hat) / (1 - alpha).sqrt()
                x = scheduler.step(eps, t, x_in).prev_sample
        return mask * x0_hat + (1 - mask) * known

    # -- training --------------------------------------------------------------------------------
    def training_loss(
        self,
        states: list[AtariState],
        rng: np.random.Generator,
        labels: list[int] | None = None,
    ) -> torch.Tensor:
        """DDPM's noise-prediction loss inside a random box of a random window of each stack;
        a conditioned model also gets each stack's action label (the "no label" class a
        :data:`UNLABELLED` share of the time)."""
        class_labels = None
        if self.conditioned:
            if labels is None or len(labels) != len(states):
                raise ValueError("a conditioned inpainter trains on one action label per stack")
            class_labels = self.training_labels(labels, rng)
        windows, masks = training_windows(states, self.spec.patch, rng)
        return self.window_loss(windows, masks, rng, class_labels)

    def training_labels(self, labels: list[int], rng: np.random.Generator) -> torch.Tensor:
        """Action labels with a :data:`UNLABELLED` share dropped to the "no label" class."""
        dropped = rng.random(len(labels)) < UNLABELLED
        return torch.from_numpy(
            np.where(dropped, self.spec.actions, np.asarray(labels, dtype=np.int64))
        )

    def window_loss(
        self,
        windows: np.ndarray,
        masks: np.ndarray,
        rng: np.random.Generator,
        class_labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """DDPM's noise-prediction loss inside the boxes ``masks`` [B, p, p] of ``windows``
        [B, p, p, k] (uint8), however the windows were chosen."""
        x0 = to_unit(windows)
        mask = torch.from_numpy(masks)[:, None].float()
        noise = torch.randn_like(x0)
        steps = self.scheduler.config.num_train_timesteps
        t = torch.from_numpy(rng.integers(0, steps, len(windows))).long()
        x_t = self.scheduler.add_noise(x0, noise, t)
        err = (self.predict_noise(x_t, x0, mask, t, class_labels) - noise) ** 2
        return (err * mask).sum() / (mask.sum() * x0.shape[1]).clamp_min(1.0)

    # -- persistence -----------------------------------------------------------------------------
    def quality_note(self) -> str:
        return ""

    def save_pretrained(self, folder: str | Path) -> None:
        save_folder(folder, self.unet, self.scheduler, self.spec.to_dict())

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> AtariInpainter:
        data = read_spec(folder, FORMAT)
        try:
            spec = AtariInpainterSpec(
                env_id=data["env_id"],
                size=int(data["size"]),
                frames=int(data["frames"]),
                patch=int(data["patch"]),
                actions=int(data.get("actions", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GeneratorLoadError(
                f"{Path(folder) / GENERATOR_FILE} is damaged ({exc.__class__.__name__}: {exc})."
            ) from None
        unet, scheduler = load_weights(folder, 2 * spec.frames + 1, spec.patch, spec.class_embeds)
        return cls(unet, scheduler, spec)


def training_windows(
    states: list[AtariState], patch: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(windows uint8 [B, p, p, k], box masks float32 [B, p, p]) for one training batch."""
    windows, masks = [], []
    for state in states:
        obs = state.obs
        size = obs.shape[0]
        lit = np.argwhere(obs.any(axis=-1))
        if len(lit) and rng.random() < ON_OBJECT:
            cy, cx = lit[rng.integers(len(lit))]
        else:
            cy, cx = rng.integers(0, size, 2)
        top = int(np.clip(cy - rng.integers(0, patch), 0, size - patch))
        left = int(np.clip(cx - rng.integers(0, patch), 0, size - patch))
        window = obs[top : top + patch, left : left + patch]
        h, w = (int(v) for v in rng.integers(BOX_SIDES[0], BOX_SIDES[1] + 1, 2))
        wl = np.argwhere(window.any(axis=-1))
        if len(wl) and rng.random() < ON_OBJECT:
            by, bx = wl[rng.integers(len(wl))]
            by, bx = int(by) - h // 2, int(bx) - w // 2
        else:
            by, bx = (int(v) for v in rng.integers(0, patch, 2))
        by, bx = int(np.clip(by, 0, patch - h)), int(np.clip(bx, 0, patch - w))
        mask = np.zeros((patch, patch), dtype=np.float32)
        mask[by : by + h, bx : bx + w] = 1.0
        windows.append(window)
        masks.append(mask)
    return np.stack(windows), np.stack(masks)


PALETTE_MIN_PIXELS = 16
"""A grey level is in a stack's palette when at least this many of its values take it."""


def stack_palette(obs: np.ndarray) -> np.ndarray:
    """The grey levels a stack draws with: black, and every level covering at least
    :data:`PALETTE_MIN_PIXELS` values (the rare in-between levels of sprite edges left out)."""
    levels, counts = np.unique(obs, return_counts=True)
    return np.union1d(levels[counts >= PALETTE_MIN_PIXELS], [0]).astype(np.float32)


def snap_to_palette(values: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Each value (0-255) to the nearest palette level: a redrawn box uses the colours the screen
    already shows, and a near-black value of the model's is the black background, not a new
    dark grey."""
    return palette[np.abs(values[..., None] - palette).argmin(axis=-1)]


def paste_box(
    state: AtariState, window: torch.Tensor, top: int, left: int, box: tuple[int, int, int]
) -> np.ndarray:
    """``state``'s stack (float 0-255) with the box (row, column within the window, side) of a
    redrawn window [k, p, p] at (top, left) pasted in, snapped to the stack's palette."""
    by, bx, side = box
    values = from_unit(window).numpy()[by : by + side, bx : bx + side]
    stack = state.obs.astype(np.float32)
    stack[top + by : top + by + side, left + bx : left + bx + side] = snap_to_palette(
        values, stack_palette(state.obs)
    )
    return stack


def redraw_box(
    inpainter: AtariInpainter, state: AtariState, rng: np.random.Generator, steps: int = 10
) -> AtariState:
    """``state`` with one box (6-14 pixels a side, centred on a lit pixel when there is one)
    redrawn unguided, snapped and projected legal, for the model card's realism check."""
    from rl_workbench.domains.atari import AtariDomain

    size, patch = state.obs.shape[0], inpainter.spec.patch
    side = int(rng.integers(6, 15))
    lit = np.argwhere(state.obs.any(axis=-1))
    cy, cx = lit[rng.integers(len(lit))] if len(lit) else rng.integers(0, size, 2)
    by0 = int(np.clip(cy - side // 2, 0, size - side))
    bx0 = int(np.clip(cx - side // 2, 0, size - side))
    top = int(np.clip(by0 + side // 2 - patch // 2, 0, size - patch))
    left = int(np.clip(bx0 + side // 2 - patch // 2, 0, size - patch))
    known = to_unit(state.obs)[None, :, top : top + patch, left : left + patch]
    mask = torch.zeros(1, 1, patch, patch)
    mask[..., by0 - top : by0 - top + side, bx0 - left : bx0 - left + side] = 1.0
    noise = torch.from_numpy(rng.standard_normal(known.shape).astype(np.float32))
    window = inpainter.inpaint(known, mask, noise, steps)[0]
    stack = paste_box(state, window, top, left, (by0 - top, bx0 - left, side))
    return AtariDomain(inpainter.spec.env_id).decode_like(stack, state)
