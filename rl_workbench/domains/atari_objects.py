"""Game objects in Atari RAM, and the edits ``--method objects`` may make to them (issue 12, s. 4).

Where each object lives in RAM is a public fact, documented for many games by OCAtari (Delfosse
et al., "OCAtari: Object-Centric Atari 2600 Reinforcement Learning Environments", 2023;
github.com/k4ntz/OC_Atari, ``ocatari/ram/spaceinvaders.py`` and ``ocatari/ram/breakout.py``). We
read the addresses from there and measured the rest ourselves (value ranges over 5,000 steps of
random play; which RAM bit draws which Breakout brick, by clearing each bit and looking at the
screen); OCAtari itself is not a dependency (it pins numpy<2 and pulls heavy packages).

An edit changes a copy of the RAM at a :class:`~rl_workbench.domains.atari_emulator.Moment`; the
game then draws the stack (``atari_emulator.Replayer``), so every frame is a screen the game could
show. Edits are small and nameable: move the cannon, remove an invader or brick, move
a shot or the ball. Edits of one object (``target``) are never combined with each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import gymnasium as gym
import numpy as np

from .atari_emulator import Moment

MOVES = (4, 8, 16, 32)
"""Distances (Atari pixels, of 160 across) the cannon is moved, each way."""

SHOT_MOVES = (8,)
"""Distances shots and the ball are moved, each way (they are small and fast)."""


@dataclass(frozen=True)
class ObjectEdit:
    """One change to one game object.

    Attributes:
        words: what it does, for the report ("invader row 3 from the bottom, column 2 removed").
        target: the object it changes; two edits of one object are never combined.
        apply: writes the change into a RAM copy (uint8 [128]) in place.
    """

    words: str
    target: str
    apply: Callable[[np.ndarray], None]


class RamLayout(ABC):
    """Where one game keeps its objects, and the edits they allow."""

    game: str
    """The ALE's name of the game (``gym.spec(id).kwargs["game"]``)."""

    @abstractmethod
    def edits(self, moment: Moment) -> list[ObjectEdit]:
        """Every single edit that applies to the objects present at ``moment``."""


def _set(address: int, value: int) -> Callable[[np.ndarray], None]:
    def apply(ram: np.ndarray) -> None:
        ram[address] = value

    return apply


def _clear_bits(
    address: int, mask: int, counter: int | None = None
) -> Callable[[np.ndarray], None]:
    def apply(ram: np.ndarray) -> None:
        ram[address] = int(ram[address]) & ~mask & 0xFF
        if counter is not None and ram[counter] > 0:
            ram[counter] = int(ram[counter]) - 1

    return apply


def _moves(
    address: int,
    value: int,
    low: int,
    high: int,
    name: str,
    distances: tuple[int, ...],
    axis: tuple[str, str] = ("left", "right"),
) -> list[ObjectEdit]:
    edits = []
    for d in distances:
        for sign, word in ((-1, axis[0]), (1, axis[1])):
            moved = value + sign * d
            if low <= moved <= high:
                edits.append(ObjectEdit(f"{name} moved {d} px {word}", name, _set(address, moved)))
    return edits


class SpaceInvadersLayout(RamLayout):
    """OCAtari's addresses: cannon x 28; invader rows 18-23 (a bit per column, bit 0 leftmost,
    row 18 the bottom one) and the count of invaders alive 17; the player's shot y 85, x 87; the
    invaders' two shots y 81-82, x 83-84. Measured: the cannon's x stays within 35-117."""

    game = "space_invaders"
    CANNON, ALIVE, ROWS, SHOT_Y, SHOT_X, BOMB_Y, BOMB_X = 28, 17, 18, 85, 87, 81, 83
    CANNON_RANGE = (35, 117)

    def edits(self, moment: Moment) -> list[ObjectEdit]:
        ram = moment.ram
        edits = _moves(self.CANNON, int(ram[self.CANNON]), *self.CANNON_RANGE, "cannon", MOVES)
        for row in range(6):
            bits = int(ram[self.ROWS + row])
            for column in range(6):
                if bits >> column & 1:
                    edits.append(
                        ObjectEdit(
                            f"invader row {row + 1} from the bottom, column {column + 1} removed",
                            f"invader {row},{column}",
                            _clear_bits(self.ROWS + row, 1 << column, counter=self.ALIVE),
                        )
                    )
        if _on_screen(int(ram[self.SHOT_Y])):
            edits += _moves(self.SHOT_X, int(ram[self.SHOT_X]), 20, 140, "your shot", SHOT_MOVES)
        for i in range(2):
            if _on_screen(int(ram[self.BOMB_Y + i])):
                edits += _moves(
                    self.BOMB_X + i,
                    int(ram[self.BOMB_X + i]),
                    20,
                    140,
                    f"invader shot {i + 1}",
                    SHOT_MOVES,
                )
        return edits


def _on_screen(y: int) -> bool:
    """OCAtari draws a Space Invaders shot at 2y + 3 and shows it between 20 and 195."""
    return 20 < 2 * y + 3 < 195


class BreakoutLayout(RamLayout):
    """OCAtari's addresses: ball x 99 and y 101 (0: no ball), bricks 0-35 (one bit per half
    brick; which bits draw which brick is measured, :func:`breakout_bricks`).

    The paddle cannot be moved this way: OCAtari reads its x from address 72, but the game
    recomputes it every frame from the paddle controller, whose position the ALE keeps outside
    RAM (measured: writing address 72 changes no pixel of the re-rendered stack)."""

    game = "breakout"
    BALL_X, BALL_Y = 99, 101

    def edits(self, moment: Moment) -> list[ObjectEdit]:
        ram = moment.ram
        edits: list[ObjectEdit] = []
        ball_y = int(ram[self.BALL_Y])
        if 0 < ball_y and ball_y + 9 <= 196:
            edits += _moves(self.BALL_X, int(ram[self.BALL_X]), 55, 191, "ball", SHOT_MOVES)
            edits += _moves(self.BALL_Y, ball_y, 1, 187, "ball", SHOT_MOVES, axis=("up", "down"))
        for (row, column), bits in sorted(breakout_bricks().items()):
            present = [(a, b) for a, b in bits if ram[a] >> b & 1]
            if len(present) == len(bits):  # a whole brick is there
                edits.append(
                    ObjectEdit(
                        f"brick row {row + 1} from the top, column {column + 1} removed",
                        f"brick {row},{column}",
                        _clear_all(bits),
                    )
                )
        return edits


def _clear_all(bits: list[tuple[int, int]]) -> Callable[[np.ndarray], None]:
    def apply(ram: np.ndarray) -> None:
        for address, bit in bits:
            ram[address] = int(ram[address]) & ~(1 << bit) & 0xFF

    return apply


@lru_cache(maxsize=1)
def breakout_bricks() -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Which RAM bits draw each brick: (row from the top, column from the left) -> [(address,
    bit)], measured on a fresh game by clearing each set bit of addresses 0-35 and finding the
    4-pixel cell it erased (bricks are 8 pixels wide, 6 high, rows from y = 57, columns from
    x = 8 of the 160x210 screen)."""
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make("ALE/Breakout-v5", repeat_action_probability=0.0)
    env.reset(seed=0)
    ale = env.unwrapped.ale  # type: ignore[attr-defined]
    start = ale.cloneState(include_rng=True)
    ram = ale.getRAM().copy()
    ale.act(0)
    full = ale.getScreenGrayscale().copy()
    bricks: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for address in range(36):
        for bit in range(8):
            if not ram[address] >> bit & 1:
                continue
            ale.restoreState(start)
            ale.setRAM(address, int(ram[address]) & ~(1 << bit) & 0xFF)
            ale.act(0)
            changed = np.argwhere(ale.getScreenGrayscale() != full)
            if len(changed) == 0:
                continue
            top, left = changed.min(axis=0)
            bricks.setdefault((int(top - 57) // 6, int(left - 8) // 8), []).append((address, bit))
    env.close()
    return bricks


LAYOUTS: dict[str, RamLayout] = {
    layout.game: layout for layout in (SpaceInvadersLayout(), BreakoutLayout())
}
"""The games whose objects ``--method objects`` can edit, by the ALE's game name."""


def layout_for(env_id: str) -> RamLayout | None:
    """The RAM layout of the game behind ``env_id`` (any ALE id of it), or None."""
    import ale_py

    gym.register_envs(ale_py)
    try:
        game = gym.spec(env_id).kwargs.get("game")
    except gym.error.Error:
        return None
    return LAYOUTS.get(str(game)) if game is not None else None


def games_with_layouts() -> str:
    """The games ``--method objects`` knows, for messages."""
    return ", ".join(sorted(LAYOUTS))
