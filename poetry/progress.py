"""Show how fetches are going: one live line on a terminal, plain lines elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from poetry.address import Address
from poetry.fetch_many import FetchState


class ProgressReport:
    """A progress listener that writes to a text stream.

    Live, it redraws one line with every address's bytes so far and state.
    Otherwise it writes one line each time an address changes state, so a log
    file is not flooded with a line per packet.
    """

    def __init__(self, stream: IO[str], addresses: Sequence[Address], live: bool) -> None:
        self._stream = stream
        self._live = live
        self._states: dict[Address, tuple[FetchState | None, int]] = {
            address: (None, 0) for address in addresses
        }

    def __call__(self, address: Address, state: FetchState, received: int) -> None:
        """Record a change for ``address`` and show it."""
        previous, _ = self._states[address]
        self._states[address] = (state, received)
        if self._live:
            self._stream.write(f"\r{self.summary()}\x1b[K")
        elif state is not previous:
            self._stream.write(f"{address}: {describe(state, received)}\n")
        self._stream.flush()

    def summary(self) -> str:
        """Return every address's state on one line."""
        return " | ".join(
            f"{address} {describe(state, received)}"
            for address, (state, received) in self._states.items()
        )

    def finish(self) -> None:
        """End the live line, so what follows starts on a line of its own."""
        if self._live:
            self._stream.write("\n")
            self._stream.flush()


def describe(state: FetchState | None, received: int) -> str:
    """Describe one address's state in a few words."""
    if state is None:
        return "connecting"
    if state is FetchState.RECEIVING:
        return f"{received} bytes"
    if state is FetchState.DONE:
        return f"done, {received} bytes"
    return f"failed after {received} bytes"
