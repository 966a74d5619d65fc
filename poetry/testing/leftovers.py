"""What a test left behind on a simulated network, and a check that it left nothing.

A test that passes while a connection is still open, a timer still set or a
producer still registered has not shown that its code finishes: the same
code on a real reactor would hang or leak. L{assert_nothing_left} fails such
a test, naming each thing left.
"""

from __future__ import annotations

from typing import Any

from poetry.testing.network import MemoryPoetryNetwork


def leftovers(network: MemoryPoetryNetwork) -> list[str]:
    """Everything still open or due on ``network``, each said in a line."""
    found = []
    for attempt in network.attempts:
        if attempt.outcome == "pending":
            found.append(f"a connection attempt to {attempt.host}:{attempt.port} still pending")
    for connection in network.connections:
        side = connection.client_side
        found.append(f"an open connection from {side.host}:{side.port} to {connection.listening}")
    for process in network.processes:
        if process.alive:
            found += [
                f"a timer in process {process.name!r}: {call}"
                for call in process.reactor.getDelayedCalls()
            ]
    for attempt in network.attempts:
        made = attempt.connection
        for transport in (made.client, made.server) if made else ():
            if _producing(transport):
                found.append(f"a producer still registered with {transport}")
    found += [
        f"the kernel's {event.what} due at {event.time}"
        for event in network.kernel.timeline.pending()
    ]
    return found


def _producing(transport: Any) -> bool:
    """Whether ``transport`` has a producer registered, in a process still alive."""
    if transport is None or transport.producer is None:
        return False
    return bool(transport.reactor.owner.alive)


def assert_nothing_left(network: MemoryPoetryNetwork) -> None:
    """Fail (C{AssertionError}) if anything is still open or due on ``network``."""
    found = leftovers(network)
    if found:
        raise AssertionError("the test left things behind on the network:\n  " + "\n  ".join(found))
