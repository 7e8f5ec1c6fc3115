"""MiniGrid rooms as tensors a generator models and a gradient can move, and back to legal rooms.

A room is one-hot over the kinds of object a cell can hold (:data:`KINDS`), [K, width, height]; the
agent is not part of it (its place, direction and load are kept from the state being edited, as a
maze generator keeps the mouse). Two maps connect it to the rest:

- :func:`observe`, the agent's full-grid observation (minigrid's ``FullyObsWrapper`` +
  ``ImgObsWrapper``: object, colour and state codes per cell, the agent drawn on its cell) as a
  differentiable function of a soft room, so the agent's gradient reaches every cell; on a one-hot
  room it equals the env's own observation exactly (tested);
- :func:`decode_like`, the nearest legal room to a soft one: the outer wall and the agent's cell
  kept, each of the original's objects (goal, ball, key, ...) placed where its kind scores highest,
  floor or wall elsewhere by the stronger score; colours and door states carried over from the
  original's object of that kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

if TYPE_CHECKING:
    from .minigrid import MiniGridState

KINDS: tuple[str, ...] = ("empty", "wall", "goal", "ball", "key", "box", "door", "lava")
CODES = torch.tensor([OBJECT_TO_IDX[k] for k in KINDS], dtype=torch.float32)
DEFAULT_COLOURS = {"wall": "grey", "goal": "green", "ball": "blue", "key": "yellow"}
DEFAULT_COLOURS |= {"box": "purple", "door": "yellow", "lava": "red"}
OBJECTS = ("goal", "ball", "key", "box", "door", "lava")
"""Kinds a decoded room has exactly as many of as the original: edits move them."""
AGENT_CODE, RED = OBJECT_TO_IDX["agent"], COLOR_TO_IDX["red"]
_INDEX = {OBJECT_TO_IDX[k]: i for i, k in enumerate(KINDS)}


def level_tensor(state: MiniGridState) -> torch.Tensor:
    """The room one-hot over :data:`KINDS`, float [K, width, height] (unknown kinds: empty)."""
    kinds = state.array[:, :, 0]
    index = np.vectorize(lambda code: _INDEX.get(int(code), 0))(kinds)
    out = torch.zeros(len(KINDS), state.width, state.height)
    out.scatter_(0, torch.from_numpy(index).long()[None], 1.0)
    return out


def _attributes(state: MiniGridState) -> tuple[torch.Tensor, torch.Tensor]:
    """Per kind, the colour and state code a cell of that kind shows: the original's own object
    of that kind where it has one, else minigrid's usual colour and state 0."""
    grid = state.array
    colours = torch.zeros(len(KINDS))
    states = torch.zeros(len(KINDS))
    for i, kind in enumerate(KINDS):
        where = np.argwhere(grid[:, :, 0] == OBJECT_TO_IDX[kind])
        if len(where):
            x, y = where[0]
            colours[i], states[i] = float(grid[x, y, 1]), float(grid[x, y, 2])
        elif kind in DEFAULT_COLOURS:
            colours[i] = float(COLOR_TO_IDX[DEFAULT_COLOURS[kind]])
    return colours, states


def observe(levels: torch.Tensor, like: MiniGridState) -> torch.Tensor:
    """The agent's observation [B, width, height, 3] of soft rooms [B, K, width, height] (each
    cell's weights over kinds), with ``like``'s agent drawn on its cell; differentiable."""
    colours, states = _attributes(like)
    weights = levels.clamp(min=0)
    weights = weights / weights.sum(dim=1, keepdim=True).clamp(min=1e-6)
    code = torch.einsum("bkxy,k->bxy", weights, CODES)
    colour = torch.einsum("bkxy,k->bxy", weights, colours)
    state = torch.einsum("bkxy,k->bxy", weights, states)
    obs = torch.stack([code, colour, state], dim=-1)
    x, y = like.agent_pos
    mark = torch.zeros_like(obs)
    mark[:, x, y] = torch.tensor([AGENT_CODE, RED, like.agent_dir], dtype=obs.dtype)
    keep = torch.ones_like(obs)
    keep[:, x, y] = 0
    return obs * keep + mark


def decode_like(scores: torch.Tensor, like: MiniGridState) -> MiniGridState:
    """The legal room nearest to ``scores`` [K, width, height] (see the module), with ``like``'s
    agent; it may still fail :func:`~rl_workbench.domains.minigrid.legality_problems` (a wall
    that cuts the goal off), which methods check."""
    from .minigrid import MiniGridState

    scores = scores.detach().clone().float()
    _, w, h = scores.shape
    original = like.array
    kinds = np.full((w, h), KINDS.index("empty"))
    inner = np.zeros((w, h), dtype=bool)
    inner[1:-1, 1:-1] = True
    inner[like.agent_pos] = False
    kinds[~inner] = [
        _INDEX.get(int(c), 0) for c in original[:, :, 0][~inner]
    ]  # the outer wall and the agent's cell stay as they are
    # Objects: exactly the original's count of each kind (an edit moves objects, it never makes
    # or removes one), on the cells where that kind scores highest against the others there.
    taken = ~inner
    for kind in sorted(OBJECTS, key=lambda name: -(original[:, :, 0] == OBJECT_TO_IDX[name]).sum()):
        i = KINDS.index(kind)
        allowed = int(((original[:, :, 0] == OBJECT_TO_IDX[kind]) & inner).sum())
        if not allowed:
            continue
        margin = scores[i] - scores.max(dim=0).values  # 0 where this kind is the strongest
        order = torch.argsort(margin.flatten(), descending=True)
        chosen = 0
        for flat in order.tolist():
            x, y = divmod(flat, h)
            if taken[x, y]:
                continue
            kinds[x, y] = i
            taken[x, y] = True
            chosen += 1
            if chosen == allowed:
                break
    rest = inner & ~taken
    floor_or_wall = torch.stack([scores[KINDS.index("empty")], scores[KINDS.index("wall")]])
    walls = (floor_or_wall.argmax(dim=0).numpy() == 1) & rest
    kinds[walls] = KINDS.index("wall")
    colours, states = _attributes(like)
    grid = original.copy()
    for x in range(w):
        for y in range(h):
            code = OBJECT_TO_IDX[KINDS[kinds[x, y]]]
            if not inner[x, y] or int(original[x, y, 0]) == code:
                continue  # unchanged cells keep their own colour and state
            k = int(kinds[x, y])
            grid[x, y] = (
                (code, 0, 0) if KINDS[k] == "empty" else (code, int(colours[k]), int(states[k]))
            )
    return MiniGridState.from_array(grid, like.agent_pos, like.agent_dir, like.carrying)
