"""The registry of counterfactual methods, by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rl_workbench.errors import InvalidArgumentError, UnknownNameError, did_you_mean

from .base import Method
from .search import SearchMethod

if TYPE_CHECKING:
    from rl_workbench.generative import (
        AtariAutoencoder,
        AtariGenerator,
        AtariInpainter,
        MazeGenerator,
        RoomGenerator,
    )

METHOD_NAMES = (
    "diffusion",
    "guided-projection",
    "latent",
    "objects",
    "search",
    "nearest",
    "pixel",
)
"""Every method, in the order reports list them."""


def make_method(
    name: str,
    *,
    generator: MazeGenerator
    | AtariGenerator
    | AtariInpainter
    | AtariAutoencoder
    | RoomGenerator
    | None = None,
    pool: list[Any] | None = None,
    family: str = "maze",
) -> Method:
    """Build a method by name; ``generator`` feeds ``diffusion`` (a generator) and ``latent``
    (an autoencoder), ``pool`` feeds ``nearest``; ``family`` (the domain's) picks the level
    algorithm ``guided-projection`` runs (maze lattices or MiniGrid rooms)."""
    if name == "search":
        return SearchMethod()
    if name == "pixel":
        from .pixel import PixelMethod

        return PixelMethod()
    if name == "nearest":
        from .nearest import NearestMethod

        if not pool:
            raise InvalidArgumentError(
                "The nearest method chooses among real states: pass --data DIR (a dataset made by "
                "`rlwb collect`), or pass pool= (run_explain collects ExplainConfig.pool_size "
                "states itself when no dataset is given)."
            )
        return NearestMethod(pool=pool)
    if name == "diffusion":
        from .diffusion import make_diffusion

        return make_diffusion(generator)  # the generator's family picks the algorithm
    if name == "guided-projection":
        if family == "minigrid":
            from .room_diffusion import RoomGuidedProjectionMethod

            return RoomGuidedProjectionMethod()
        from .level_diffusion import GuidedProjectionMethod

        return GuidedProjectionMethod()
    if name == "objects":
        from .objects import ObjectsMethod

        return ObjectsMethod()
    if name == "latent":
        from .latent import LatentMethod

        return LatentMethod(autoencoder=generator)  # type: ignore[arg-type]
    raise UnknownNameError(f"Unknown method {name!r}." + did_you_mean(name, METHOD_NAMES))
