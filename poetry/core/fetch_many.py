"""Fetch poems from many servers at once, with per-address results and progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from twisted.internet.defer import Deferred, gatherResults
from twisted.python.failure import Failure

from poetry.core.address import Address
from poetry.core.client import DEFAULT_MAX_BYTES, get_poetry


class FetchState(Enum):
    """Where one fetch stands."""

    RECEIVING = "receiving"
    DONE = "done"
    FAILED = "failed"


ProgressListener = Callable[[Address, FetchState, int], None]
"""Told each address's state and the bytes received so far, whenever either changes."""


@dataclass(frozen=True)
class FetchOutcome:
    """The result of fetching from one address: the poem, or the failure."""

    address: Address
    poem: bytes | None = None
    failure: Failure | None = None


def fetch_one(
    reactor: Any,
    address: Address,
    *,
    timeout: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_progress: ProgressListener | None = None,
) -> Deferred[FetchOutcome]:
    """Fetch the poem at ``address``; the result never fails, it holds the failure."""
    received = [0]

    def tell(state: FetchState) -> None:
        if on_progress is not None:
            on_progress(address, state, received[0])

    def arrived(count: int) -> None:
        received[0] = count
        tell(FetchState.RECEIVING)

    def done(poem: bytes) -> FetchOutcome:
        tell(FetchState.DONE)
        return FetchOutcome(address, poem=poem)

    def failed(failure: Failure) -> FetchOutcome:
        tell(FetchState.FAILED)
        return FetchOutcome(address, failure=failure)

    poem = get_poetry(
        reactor,
        address.host,
        address.port,
        timeout=timeout,
        max_bytes=max_bytes,
        on_progress=arrived,
    )
    return poem.addCallbacks(done, failed)


def fetch_many(
    reactor: Any,
    addresses: Sequence[Address],
    *,
    timeout: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_progress: ProgressListener | None = None,
) -> Deferred[list[FetchOutcome]]:
    """Fetch from every address concurrently; fire with one outcome per address, in order."""
    return gatherResults(
        [
            fetch_one(
                reactor, address, timeout=timeout, max_bytes=max_bytes, on_progress=on_progress
            )
            for address in addresses
        ]
    )
