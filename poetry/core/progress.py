"""Show how fetches are going: one live line on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Sequence
from typing import IO

from poetry.core.address import Address
from poetry.core.fetch_many import FetchState, ProgressListener


def terminal_columns(stream: IO[str]) -> int:
    """Return the width of the terminal ``stream`` writes to.

    When ``stream`` is not a terminal, fall back to C{shutil.get_terminal_size}
    (``$COLUMNS``, then stdout's terminal, then 80).
    """
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, io.UnsupportedOperation):
        return shutil.get_terminal_size().columns


def fit(line: str, width: int) -> str:
    """Cut ``line`` to at most ``width`` characters, ending a cut line with ``...``."""
    if len(line) <= width:
        return line
    if width <= 3:
        return line[: max(width, 0)]
    return line[: width - 3] + "..."


class ProgressReport:
    """Progress of several fetches, written to a text stream.

    Live, it redraws one line with every fetch's bytes so far and state, cut to
    the terminal's width (measured at each redraw, so a resized terminal is
    followed), so that it never wraps onto a line it cannot redraw. Otherwise it
    writes one line each time a fetch changes state, so a log file is not
    flooded with a line per packet. Each fetch is its own entry, even when
    several are from the same address.
    """

    def __init__(
        self,
        stream: IO[str],
        addresses: Sequence[Address],
        live: bool,
        columns: Callable[[], int] | None = None,
    ) -> None:
        self._stream = stream
        self._live = live
        self._columns = columns if columns is not None else lambda: terminal_columns(stream)
        self._addresses = list(addresses)
        self._states: list[tuple[FetchState | None, int]] = [(None, 0)] * len(addresses)

    def listener(self, index: int) -> ProgressListener:
        """Return the progress listener of the fetch at ``index`` of the addresses."""

        def changed(address: Address, state: FetchState, received: int) -> None:
            self._record(index, state, received)

        return changed

    def _record(self, index: int, state: FetchState, received: int) -> None:
        """Record a change for the fetch at ``index`` and show it."""
        previous, _ = self._states[index]
        self._states[index] = (state, received)
        if self._live:
            # One column is left free: some terminals wrap when the last one is written.
            self._stream.write(f"\r{fit(self.summary(), self._columns() - 1)}\x1b[K")
        elif state is not previous:
            self._stream.write(f"{self._addresses[index]}: {describe(state, received)}\n")
        self._stream.flush()

    def summary(self) -> str:
        """Return every fetch's state on one line."""
        return " | ".join(
            f"{address} {describe(state, received)}"
            for address, (state, received) in zip(self._addresses, self._states, strict=True)
        )

    def finish(self) -> None:
        """End the live line, so what follows starts on a line of its own."""
        if self._live:
            self._stream.write("\n")
            self._stream.flush()


def describe(state: FetchState | None, received: int) -> str:
    """Describe one fetch's state in a few words."""
    if state is None:
        return "connecting"
    if state is FetchState.RECEIVING:
        return f"{received} bytes"
    if state is FetchState.DONE:
        return f"done, {received} bytes"
    return f"failed after {received} bytes"
