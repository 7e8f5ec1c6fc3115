"""``diffusion``: guided partial denoising of the agent's own state, one algorithm per family.

Levels and frame stacks need different algorithms (a whole-level SDEdit with a minimality pass
over atomic changes, vs a saliency-local RePaint edit of pixels); each lives in its own module.
The generator says which family it models (its ``family`` attribute, the domain registry's key),
and this table picks the algorithm, so no method branches on state or generator types.
"""

from __future__ import annotations

from typing import Any

from rl_workbench.errors import InvalidArgumentError

from .base import Method


def _level_diffusion(generator: Any) -> Method:
    from .level_diffusion import LevelDiffusionMethod

    return LevelDiffusionMethod(generator=generator)


def _stack_diffusion(generator: Any) -> Method:
    from .stack_diffusion import StackDiffusionMethod

    return StackDiffusionMethod(generator=generator)


def _stack_inpainting(generator: Any) -> Method:
    from .stack_inpainting import StackInpaintingMethod

    return StackInpaintingMethod(generator=generator)


def _room_diffusion(generator: Any) -> Method:
    from .room_diffusion import RoomDiffusionMethod

    return RoomDiffusionMethod(generator=generator)


DIFFUSION_BY_FAMILY = {
    "minigrid": _room_diffusion,
    "maze": _level_diffusion,
    "atari": _stack_diffusion,
    "atari-inpainting": _stack_inpainting,
}
"""The diffusion algorithm for each kind of generator: its family's, unless the generator names
its own (``edit_algorithm``: an Atari inpainter edits boxes, not scattered pixels)."""


def make_diffusion(generator: Any) -> Method:
    """The diffusion method for the family ``generator`` models.

    Raises:
        InvalidArgumentError: no generator, or one of a family with no diffusion algorithm.
    """
    if generator is None:
        raise InvalidArgumentError(
            "The diffusion method needs a generator: pass --generator GEN (fit one with "
            "`rlwb fit-generator`) or use the zoo's (zoo:maze-generator)."
        )
    family = getattr(generator, "edit_algorithm", getattr(generator, "family", None))
    build = DIFFUSION_BY_FAMILY.get(str(family))
    if build is None:
        raise InvalidArgumentError(
            f"No diffusion algorithm edits {family!r} states; generators of "
            f"{', '.join(sorted(DIFFUSION_BY_FAMILY))} states are supported."
        )
    return build(generator)
