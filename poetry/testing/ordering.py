"""The order of things due at the same instant: as they were added, or drawn from a seed.

Twisted's C{Clock} runs calls due at the same time in the order they were
added, and the simulated network polls ready sockets in the order they
became ready; a real reactor promises neither, and processes run at once. A
search for interleaving bugs (C{poetry.testing.explore}) draws that order
from a seed instead, with L{MemoryPoetryNetwork.shuffle}: the same seed, the
same order. Each connection's packets stay in order whatever the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class Order:
    """How ties are broken: in the order things were added, or at random from a seed."""

    def __init__(self) -> None:
        self._random: random.Random | None = None

    def shuffle(self, seed: int | None) -> None:
        """Break later ties at random from ``seed`` (None: in the order things were added)."""
        self._random = None if seed is None else random.Random(seed)

    def arrange(self, items: Sequence[T]) -> list[T]:
        """Return ``items`` in the order to take them."""
        arranged = list(items)
        if self._random is not None and len(arranged) > 1:  # one item or none draws nothing
            self._random.shuffle(arranged)
        return arranged

    def pick(self, items: Sequence[T]) -> T:
        """Return the one of ``items`` (not empty) to take first."""
        if self._random is None or len(items) == 1:
            return items[0]
        return items[self._random.randrange(len(items))]
