"""Maze levels as a rooted spanning tree on procgen's room lattice: the maze generator's
representation, chosen so that a perfect maze is a *local* property a denoiser can get right.

A level of side ``s`` has ``R = (s + 1) / 2`` rooms per side. Every room's 2x2 block of cells (the
room, the passage to its right, the passage below it, the pillar) becomes one lattice node, so a
``W x W`` world becomes an ``L x L`` lattice with ``L = (W + 1) / 2``, the maze's rooms in its
top-left ``R x R`` corner (anchored there, not centred: procgen centres mazes of every size, which
puts rooms on odd cells for half the sizes; anchoring keeps every size on one lattice).

Why a tree and not walls: a wall map is a perfect maze only if it is connected and acyclic, a
global property a denoiser that sees it through a few convolutions gets wrong most of the time
(28.6% of the pixel generator's raw samples were perfect mazes). Here every room names its
*parent*, the neighbour one step closer to the maze's start room (bottom-left, where the mouse
starts), and carries its tree depth modulo ``PERIOD`` as an angle, so which neighbour is closer
is visible between neighbours. A sample is read literally (:func:`read_parents`) and is a perfect
maze exactly when its links form a tree: no two rooms naming each other, no loop of rooms. Each
level has exactly one encoding. (Reading parents only *downhill* in a scalar depth, which rules
loops out by construction, was tried and did worse: a scalar depth is rarely exact enough over a
whole maze, and a room with no neighbour below it breaks the reading; BENCHMARKS.md.)

Channels (all in [-1, 1], -1 is "no"):

- ``IN_MAZE``: the node is a room of the maze;
- ``PARENT`` (5): parent up / down / left / right / none (the start room);
- ``DEPTH`` (2): cos and sin of ``2 pi depth / PERIOD``;
- ``CHEESE``, ``MOUSE``, ``SIGN`` (3 each): the object sits on the room / the passage to its
  right / the passage below it.

Reading a sample back (:func:`read_raw`) is literal: each room's strongest parent opens the
passage to that neighbour, objects sit at their strongest cells; nothing is repaired.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from rl_workbench.domains.maze import FREE as FREE_CHANNEL
from rl_workbench.domains.maze import WALL as WALL_CHANNEL
from rl_workbench.domains.maze import MazeDomain
from rl_workbench.envs.maze import MazeState, is_perfect_maze
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.types import Cell

PERIOD = 8
"""Tree depth is stored modulo this many steps, as an angle: enough for a denoiser to tell which
neighbour is one step closer to the start, without a scalar that must be exact over a whole maze."""

IN_MAZE = 0
PARENT = slice(1, 6)
DEPTH = slice(6, 8)
CHEESE = slice(8, 11)
MOUSE = slice(11, 14)
SIGN = slice(14, 17)
CHANNELS = 17

PARENT_STEPS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""Lattice offsets of parent up, down, left, right (channel order); the fifth is the root."""

SUB_CELLS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, 0))
"""Cell offsets inside a node's 2x2 block where an object may sit: room, right passage, passage
below (the pillar at (1, 1) is always wall)."""


def lattice_side(world_size: int) -> int:
    return (world_size + 1) // 2


def rooms(maze_size: int) -> int:
    return (maze_size + 1) // 2


def tree_parents(state: MazeState) -> tuple[np.ndarray, np.ndarray]:
    """Each room's parent direction (0-3, 4 for the root) and depth in the maze's tree, rooted at
    the start room, as [R, R] int arrays.

    Raises:
        InvalidArgumentError: the level is not a perfect maze (it has no such tree).
    """
    if not is_perfect_maze(state):
        raise InvalidArgumentError("Only perfect mazes have a spanning-tree encoding.")
    r = rooms(state.maze_size)
    top, left = state.origin
    parent = np.full((r, r), -1, dtype=np.int64)
    depth = np.full((r, r), -1, dtype=np.int64)
    root = (r - 1, 0)
    parent[root], depth[root] = 4, 0
    queue = deque([root])
    while queue:
        i, j = queue.popleft()
        for k, (di, dj) in enumerate(PARENT_STEPS):
            ni, nj = i + di, j + dj
            if not (0 <= ni < r and 0 <= nj < r) or depth[ni, nj] >= 0:
                continue
            if state.walls[top + 2 * i + di, left + 2 * j + dj]:
                continue
            # The neighbour's parent is this room: the step back, i.e. the opposite direction.
            parent[ni, nj] = k ^ 1
            depth[ni, nj] = depth[i, j] + 1
            queue.append((ni, nj))
    return parent, depth


def encode(state: MazeState) -> np.ndarray:
    """float32 [CHANNELS, L, L] in [-1, 1]: the level's tree and objects (see the module doc)."""
    side = lattice_side(state.world_size)
    x = -np.ones((CHANNELS, side, side), dtype=np.float32)
    parent, depth = tree_parents(state)
    r = parent.shape[0]
    x[IN_MAZE, :r, :r] = 1.0
    idx_i, idx_j = np.indices((r, r))
    x[PARENT.start + parent, idx_i, idx_j] = 1.0
    angle = 2 * np.pi * depth / PERIOD
    x[DEPTH.start, :r, :r] = np.cos(angle)
    x[DEPTH.start + 1, :r, :r] = np.sin(angle)
    for channels, cell in ((CHEESE, state.cheese), (MOUSE, state.mouse), (SIGN, state.sign)):
        if cell is not None:
            sub, i, j = _node_of(state, cell)
            x[channels.start + sub, i, j] = 1.0
    return x


def _node_of(state: MazeState, cell: Cell) -> tuple[int, int, int]:
    """(sub-cell index, node row, node col) of a free maze cell."""
    top, left = state.origin
    dr, dc = cell[0] - top, cell[1] - left
    return SUB_CELLS.index((dr % 2, dc % 2)), dr // 2, dc // 2


def _cell_of(maze_size: int, world_size: int, sub: int, i: int, j: int) -> Cell:
    margin = (world_size - maze_size) // 2
    dr, dc = SUB_CELLS[sub]
    return (margin + 2 * i + dr, margin + 2 * j + dc)


def read_size(x: np.ndarray, sizes: tuple[int, ...]) -> int | None:
    """The maze size whose room block matches the sample's in-maze channel exactly, or None."""
    inside = x[IN_MAZE] > 0
    for size in sizes:
        r = rooms(size)
        expected = np.zeros_like(inside)
        expected[:r, :r] = True
        if np.array_equal(inside, expected):
            return size
    return None


def read_parents(a: np.ndarray, maze_size: int) -> np.ndarray:
    """Each room's parent direction [R, R] as a sample states it: the start room is the root
    (index 4) and every other room takes its strongest parent channel among its neighbours in
    the maze (the parent is a categorical variable over those neighbours, as the room/pillar
    layout is fixed). Nothing here makes the links a tree: two rooms naming each other, or a loop
    of rooms, stay in the reading, and such a reading is not a perfect maze."""
    r = rooms(maze_size)
    scores = a[PARENT.start : PARENT.start + 4, :r, :r].copy()
    scores[0, 0, :] = scores[1, r - 1, :] = scores[2, :, 0] = scores[3, :, r - 1] = -np.inf
    parent = scores.argmax(axis=0)
    parent[r - 1, 0] = 4
    return parent


def walls_from_parents(parent: np.ndarray, maze_size: int, world_size: int) -> np.ndarray:
    """The wall map that opens each room's passage to its parent (index 4: none)."""
    r = parent.shape[0]
    walls = np.ones((world_size, world_size), dtype=bool)
    margin = (world_size - maze_size) // 2
    walls[margin : margin + maze_size : 2, margin : margin + maze_size : 2] = False
    for i in range(r):
        for j in range(r):
            k = int(parent[i, j])
            if k < 4:
                di, dj = PARENT_STEPS[k]
                walls[margin + 2 * i + di, margin + 2 * j + dj] = False
    return walls


def links_form_tree(a: np.ndarray, maze_size: int, world_size: int) -> bool:
    """Whether a sample's parent links, read over the rooms of ``maze_size``, are a perfect maze
    (whatever its in-maze channel says)."""
    walls = walls_from_parents(read_parents(a, maze_size), maze_size, world_size)
    return is_perfect_maze(MazeState(walls=walls, maze_size=maze_size, mouse=(0, 0), cheese=(0, 0)))


def read_raw(
    x: np.ndarray | torch.Tensor, world_size: int, sizes: tuple[int, ...], signs: bool
) -> MazeState | None:
    """The level a sample spells out literally, or None when it spells out none.

    The maze size from the in-maze channel (it must be one of ``sizes`` exactly), each room's
    passage to its strongest parent (:func:`read_parents`), and each object at its strongest free
    cell. Whether the result is a *perfect* maze is left to the caller (:func:`is_perfect_maze`):
    that is the question a generator is judged by.
    """
    a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    size = read_size(a, sizes)
    if size is None:
        return None
    r = rooms(size)
    walls = walls_from_parents(read_parents(a, size), size, world_size)

    def strongest(channels: slice) -> Cell:
        scores = a[channels, :r, :r]
        order = np.argsort(-scores, axis=None)
        for flat in order:
            sub, i, j = np.unravel_index(int(flat), scores.shape)
            cell = _cell_of(size, world_size, int(sub), int(i), int(j))
            if max(cell) < world_size and not walls[cell]:
                return cell
        raise AssertionError("a maze has free cells")  # pragma: no cover

    sign = strongest(SIGN) if signs else None
    return MazeState(
        walls=walls, maze_size=size, mouse=strongest(MOUSE), cheese=strongest(CHEESE), sign=sign
    )


def snap_tree_codes(x0: torch.Tensor, block: torch.Tensor) -> torch.Tensor:
    """A clean-lattice estimate with each room's tree channels rounded to the nearest code.

    Diffusion-LM's clamping trick (Li et al. 2022, sec. 4.2): at every sampling step the
    estimate of the clean sample is mapped to the nearest point the encoding can take (in-maze
    to +-1, the parent to a one-hot of its strongest direction, the depth to the unit circle;
    outside the room ``block`` every tree channel is -1), so the sampler stops averaging two
    parents a room cannot have at once. It knows the code book of one room, nothing about
    trees: a cycle or a parent pointing out of the maze passes through unchanged. Object
    channels are left as estimated.
    """
    out = x0.clone()
    inside = block[:, :1] > 0
    out[:, IN_MAZE] = torch.where(x0[:, IN_MAZE] > 0, 1.0, -1.0)
    parent = x0[:, PARENT]
    one_hot = torch.nn.functional.one_hot(parent.argmax(1), parent.shape[1])
    one_hot = one_hot.permute(0, 3, 1, 2).to(x0.dtype) * 2 - 1
    out[:, PARENT] = torch.where(inside, one_hot, -1.0)
    depth = x0[:, DEPTH]
    unit = depth / depth.norm(dim=1, keepdim=True).clamp_min(1e-6)
    out[:, DEPTH] = torch.where(inside, unit, -1.0)
    return out


def level_tensor(x: torch.Tensor, like: MazeState) -> torch.Tensor:
    """[B, 6, W, W] level channels in [0, 1] from lattice samples [B, CHANNELS, L, L],
    differentiably, with ``like``'s maze size and mouse (what counterfactuals keep).

    A passage's openness is the probability that either room names the other its parent
    (each read as ``(x + 1) / 2``), capped at 1; the cheese and the sign spread over the cells
    their channels point to. This is what the agent's gradient flows back through.
    """
    world = like.world_size
    size, r = like.maze_size, rooms(like.maze_size)
    margin = (world - size) // 2
    b = x.shape[0]
    p = ((x + 1) / 2).clamp(0, 1)
    parent = p[:, PARENT, :r, :r]
    sl = slice(margin, margin + size)
    # right passages: room (i, j) points right, or (i, j + 1) points left
    right = (parent[:, 3, :, :-1] + parent[:, 2, :, 1:]).clamp(max=1)
    down = (parent[:, 1, :-1, :] + parent[:, 0, 1:, :]).clamp(max=1)
    block = torch.zeros(b, size, size, dtype=x.dtype)
    block[:, 0::2, 0::2] = 1.0
    block[:, 0::2, 1::2] = right
    block[:, 1::2, 0::2] = down
    openness = torch.zeros(b, world, world, dtype=x.dtype)
    openness[:, sl, sl] = block
    inside = torch.from_numpy(like.maze_mask()).to(x.dtype)
    out = torch.zeros(b, 6, world, world, dtype=x.dtype)
    out[:, 0] = (1 - openness) * inside
    out[:, 1] = openness
    out[:, 5] = 1 - inside
    out[:, 2, like.mouse[0], like.mouse[1]] = 1.0
    for channel, objects in ((3, CHEESE), (4, SIGN)):
        if channel == 4 and like.sign is None:
            continue
        for sub, (dr, dc) in enumerate(SUB_CELLS):
            cells = p[:, objects.start + sub, :r, :r]
            rows = slice(margin + dr, margin + size, 2)
            cols = slice(margin + dc, margin + size, 2)
            h = len(range(margin + dr, margin + size, 2))
            w = len(range(margin + dc, margin + size, 2))
            out[:, channel, rows, cols] = out[:, channel, rows, cols] + cells[:, :h, :w]
    return out


def to_model_space(states: list[MazeState], padded_size: int) -> torch.Tensor:
    """[B, CHANNELS, P, P]: encodings padded with "no room" nodes (every channel -1)."""
    x = -torch.ones(len(states), CHANNELS, padded_size, padded_size)
    for k, state in enumerate(states):
        enc = torch.from_numpy(encode(state))
        x[k, :, : enc.shape[1], : enc.shape[2]] = enc
    return x


def decode_like(x: torch.Tensor, like: MazeState, domain: MazeDomain) -> tuple[MazeState, bool]:
    """The legal level a sample [CHANNELS, P, P] means, with ``like``'s maze size and mouse, and
    whether its parent links already formed a perfect maze (no repair of the walls needed).

    Walls: the literal tree when it is one, else the domain's projection (a maximum spanning tree
    over how open each passage looks). Objects: the domain places them by its variant's rules
    (cheese region, sign on the cheese or away) at the cells the sample rates highest.
    """
    level = level_tensor(x[None].detach(), like)[0]
    a = x.detach().numpy()
    raw_tree = links_form_tree(a, like.maze_size, like.world_size)
    if raw_tree:
        walls = walls_from_parents(read_parents(a, like.maze_size), like.maze_size, like.world_size)
        free = torch.from_numpy(~walls).to(level.dtype)
        level[FREE_CHANNEL] = free
        level[WALL_CHANNEL] = (1 - free) * torch.from_numpy(like.maze_mask()).to(level.dtype)
    return domain.decode_level_like(level, like), raw_tree
