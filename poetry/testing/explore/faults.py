"""What each kind of step does to a world, and the phase of the connection it strikes.

Targets wrap around: connection ``n`` of a world with three connections made
so far is connection ``n % 3``; a step on connections before any is made,
or on a client that has finished, does nothing. A step that waits for a
phase (L{Step.when}) is taken once a connection is in it (L{until}).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import maybeDeferred

from poetry.testing.endpoints import HALF_OPEN
from poetry.testing.explore.plans import CONNECTION_KINDS, PROCESS_KINDS, Step
from poetry.testing.explore.world import World
from poetry.testing.records import MemoryConnection

MAX_EVENTS = 1_000_000
"""The most moments L{until} steps through before it gives up (the world never settles)."""


def phase(connection: MemoryConnection | None) -> str:
    """The phase ``connection`` is in, as its client sees it."""
    if connection is None or connection.closed:
        return "idle"
    client, server = connection.client_side, connection.server_side
    if server is None or server.state == HALF_OPEN or connection.opened is None:
        return "connecting"
    if client.closed_by_app or server.closed_by_app:
        return "closing"
    if client.inbox.fin:
        return "after the FIN"
    return "before the first byte" if client.inbox.received == 0 else "mid-poem"


def until(world: World, wanted: str, deadline: float) -> MemoryConnection | None:
    """Let time run, moment by moment, until a connection is in phase ``wanted``; return it.

    None if no connection is by ``deadline`` (time is then at the deadline).
    """
    network = world.network
    for _ in range(MAX_EVENTS):
        found = next((c for c in network.every_connection if phase(c) == wanted), None)
        if found is not None:
            return found
        soonest = network.next_due()
        if soonest is None or soonest > deadline:
            network.advance(max(0.0, deadline - network.now))
            return None
        network.advance(soonest - network.now)
    raise RuntimeError(f"the world moved {MAX_EVENTS} times before {deadline} s")


def apply(world: World, step: Step, connection: MemoryConnection | None = None) -> str:
    """Take ``step`` in ``world`` (on ``connection``, if given); return the phase it struck in."""
    connections = world.network.every_connection
    if step.kind in CONNECTION_KINDS:
        if connection is None and not connections:
            return "idle"
        if connection is None:
            connection = connections[step.target % len(connections)]
        struck = phase(connection)
        _on_connection(connection, step.kind)
        return struck
    open_ones = world.network.connections
    if connection is None and open_ones:
        connection = open_ones[-1]
    struck = phase(connection)
    if step.kind == "cancel":
        client = world.clients[step.target % len(world.clients)]
        if client.deferred is not None and client.outcome is None:
            client.deferred.cancel()
    elif step.kind in PROCESS_KINDS:
        _on_process(world, step)
    else:
        _on_network(world, step)
    return struck


def _on_connection(connection: MemoryConnection, kind: str) -> None:
    if connection.closed:
        return
    if kind in ("reset server side", "reset client side"):
        side = kind.split()[1]
        transport = connection.server if side == "server" else connection.client
        if transport is None or transport.reactor.owner.alive:  # a dead process resets nothing
            connection.reset(side)
    elif kind == "hold":
        connection.hold()
    elif kind == "release":
        connection.release()
    else:
        transport = connection.client
        if transport is not None and transport.connected:
            transport.pauseProducing() if kind == "stop reading" else transport.resumeProducing()


def _on_process(world: World, step: Step) -> None:
    """Crash, stop, restart or step the clock of a server; a dead one only restarts."""
    server = world.servers[step.target % len(world.servers)]
    process, service = server.process, server.service
    assert process is not None and service is not None, "the world's servers start with it"
    if step.kind == "restart":
        process.crash()
        server.start(world.network)
    elif not server.alive:
        return
    elif step.kind == "crash":
        process.crash()
    elif step.kind == "exit" and not server.stopping:
        server.stopping = True
        maybeDeferred(service.stopService).addBoth(lambda _: process.crash())
    elif step.kind == "clock step":
        process.step_clock(step.value)


def _on_network(world: World, step: Step) -> None:
    network = world.network
    here, there = world.links[step.target % len(world.links)]
    server = world.servers[step.target % len(world.servers)]
    actions: dict[str, Any] = {
        "partition": lambda: network.partition(here, there),
        "partition to the server": lambda: network.partition(here, there, both_ways=False),
        "partition to the client": lambda: network.partition(there, here, both_ways=False),
        "heal": lambda: network.heal(here, there),
        "black hole": lambda: network.black_hole(server.address, server.port),
        "refuse": lambda: network.refuse(server.address, server.port),
        "restore": lambda: network.restore(server.address, server.port),
        "stall": lambda: network.stall(server.address, server.port),
        "latency": lambda: network.set_latency(here, there, step.value),
        "bandwidth": lambda: network.set_bandwidth(here, there, step.value or None),
        "fragment": lambda: network.fragment(seed=int(step.value)),
    }
    actions[step.kind]()


def calm(world: World, settle: float) -> None:
    """End every fault, let ``settle`` seconds pass, then start every server that is not up.

    Links are healed and as at first, doors open, connections released and
    read again; a server still stopping has the time to finish.
    """
    network = world.network
    for here, there in world.links:
        network.heal(here, there)
        network.set_latency(here, there, world.latency)
        network.set_bandwidth(here, there, world.bandwidth)
    for server in world.servers:
        network.restore(server.address, server.port)
    network.fragment()
    for connection in network.every_connection:
        connection.release()
        transport = connection.client
        if transport is not None and transport.connected:
            transport.resumeProducing()
    network.advance(settle)
    for server in world.servers:
        if not server.alive:
            server.start(network)
