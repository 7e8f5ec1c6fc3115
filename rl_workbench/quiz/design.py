"""The study design: which arm a participant is in, and which items each participant sees.

Why these rules (issue 14, section 3):

- **Assignment per participant, balanced, hidden, kept.** A condition drawn per session put
  returning people in both arms and, announced on screen, told them which. A participant's arm
  is drawn once, the first time they take a deck, by *block randomisation*: the k-th
  participant of a deck takes place ``k`` of a seeded shuffle of each block of
  ``2 x len(conditions)`` places, so after every full block the arms are exactly balanced
  (Altman & Bland, BMJ 1999, "How to randomise"). The store keeps it; later sessions reuse it.
- **Items per participant, never a level twice.** Every person drawing the same seeds made a
  person's second session replay their first, and two seeds can draw the same level. Item seeds
  are derived from the deck's seed, the participant, their session's ordinal, the phase, the
  item and an attempt counter; an item whose state (by content) this participant has already
  seen, in any phase or session, is drawn again with the next attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def block_size(conditions: Sequence[str]) -> int:
    """Places per randomisation block: two of each condition (small blocks keep arms close to
    balanced at every point; two per arm keeps the next assignment unpredictable)."""
    return 2 * len(conditions)


def condition_for(position: int, conditions: Sequence[str], deck_name: str, deck_seed: int) -> str:
    """The arm of the ``position``-th participant (from 0) of a deck, by block randomisation."""
    if not conditions:
        raise ValueError("a deck needs at least one condition")
    size = block_size(conditions)
    block, place = divmod(position, size)
    rng = np.random.default_rng(_digest_int(f"assign\0{deck_name}\0{deck_seed}\0{block}"))
    order = rng.permutation(size)
    return list(conditions)[int(order[place]) % len(conditions)]


def item_seed(
    deck_seed: int, user: str, session_ordinal: int, phase: int, within: int, attempt: int = 0
) -> int:
    """The env seed of one item for one participant (31 bits, as env seeds are usually taken)."""
    key = f"item\0{deck_seed}\0{user}\0{session_ordinal}\0{phase}\0{within}\0{attempt}"
    return _digest_int(key) % (2**31)


def _digest_int(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
