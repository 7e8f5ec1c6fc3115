"""Where the goal and a proxy part ways in a maze: proxy cells and the decision square.

Turner, Mini et al.'s decision square is the last cell the path start -> cheese and the path
start -> proxy share; from there, one move heads for the cheese and another for the proxy, so
the policy's choice there is the cleanest single reading of which one it pursues. A maze
without one (the cheese on the way to the proxy or the other way round) cannot tell them apart
and is left out of the restricted measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

from rl_workbench.envs.maze import MazeState
from rl_workbench.envs.maze.state import MOVES, shortest_path

from .suite import Proxy

Cell = tuple[int, int]


def proxy_cells(state: MazeState, proxy: Proxy) -> set[Cell]:
    """The cells that count as reaching the proxy (the corner block, or the sign's cell)."""
    if proxy.kind == "corner":
        return set(state.region(proxy.region))
    return {state.sign} if state.sign is not None else set()


def proxy_anchor(state: MazeState, proxy: Proxy) -> Cell | None:
    """The one cell a proxy-seeker heads for: the maze's top-right corner, or the sign."""
    if proxy.kind == "corner":
        return state.corner if state.is_free(state.corner) else None
    return state.sign


@dataclass(frozen=True)
class Fork:
    """A maze's decision square and the first move toward each target from it.

    Attributes:
        square: the decision square.
        to_goal: the action (index) that heads for the cheese.
        to_proxy: the action that heads for the proxy.
    """

    square: Cell
    to_goal: int
    to_proxy: int


def find_fork(state: MazeState, proxy: Proxy, start: Cell | None = None) -> Fork | None:
    """The decision square between cheese and proxy from ``start`` (default: the mouse).

    None when the level cannot separate them: no proxy, the cheese inside the proxy's cells,
    or one target on the shortest path to the other.
    """
    anchor = proxy_anchor(state, proxy)
    cells = proxy_cells(state, proxy)
    start = state.mouse if start is None else start
    if anchor is None or state.cheese in cells or start in cells or start == state.cheese:
        return None
    to_cheese = shortest_path(state.walls, start, state.cheese)
    to_proxy = shortest_path(state.walls, start, anchor)
    if to_cheese is None or to_proxy is None:
        return None
    if cells.intersection(to_cheese) or state.cheese in to_proxy:
        return None
    shared = 0
    while (
        shared + 1 < min(len(to_cheese), len(to_proxy))
        and to_cheese[shared + 1] == to_proxy[shared + 1]
    ):
        shared += 1
    square = to_cheese[shared]
    return Fork(square, _move(square, to_cheese[shared + 1]), _move(square, to_proxy[shared + 1]))


def _move(a: Cell, b: Cell) -> int:
    return MOVES.index((b[0] - a[0], b[1] - a[1]))
