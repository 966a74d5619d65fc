"""Running a plan in its world, and the invariants every run is held to.

The invariants, each by its name:

 - C{integrity}: a client reports a result only when it received every
   byte of it; a cut reply is always an error (a client's result is what
   it was to get, byte for byte).
 - C{liveness}: once the faults stop and time runs on, every client's
   result has come; and once the services stop, nothing is left on the
   network (no open connection, no timer, no registered producer, no
   packet due).
 - C{recovery}: once the faults stop, a new client of each kind gets its
   whole result (a proxy never keeps a failure, or an empty or partial
   poem, in its cache).
 - C{error}: nothing logs an error.
 - C{determinism}: the same plan gives the same trace (checked by running
   it twice, see L{poetry.testing.explore.search}).
 - the world's own checks (L{World.checks}), each under its own name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from twisted.internet.defer import maybeDeferred
from twisted.logger import ILogObserver, LogEvent, LogLevel, globalLogPublisher
from zope.interface import implementer

from poetry.testing.explore.faults import apply, calm, until
from poetry.testing.explore.plans import Plan
from poetry.testing.explore.scenarios import SCENARIOS
from poetry.testing.explore.world import Client, World
from poetry.testing.leftovers import leftovers

HORIZON = 3.0
"""Seconds of the plan: steps fall within them."""

SETTLE = 120.0
"""Seconds the world runs on after its faults stop, at each stage of the checks."""

INVARIANTS = ("integrity", "liveness", "recovery", "error", "determinism")
"""Every invariant, by name."""

Cell = tuple[str, str, str]
"""What a step struck: the scenario, the kind of fault, the phase of the connection."""


@dataclass
class Outcome:
    """What running a plan showed: its violations (each named by its invariant), its trace."""

    plan: Plan
    violations: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    cells: set[Cell] = field(default_factory=set)

    @property
    def invariant(self) -> str | None:
        """The invariant the first violation breaks, if any."""
        return self.violations[0].split(":", 1)[0] if self.violations else None

    @property
    def trace_hash(self) -> str:
        """A digest of the trace: two runs of one plan must give the same."""
        return hashlib.sha256("\n".join(self.trace).encode()).hexdigest()


Scenarios = Mapping[str, Callable[[], World]]
"""Worlds by scenario name: each call makes a fresh world, not started."""


def run_plan(plan: Plan, scenarios: Scenarios = SCENARIOS) -> Outcome:
    """Run ``plan`` in a fresh world of its scenario (from ``scenarios``); return what it showed."""
    outcome = Outcome(plan)
    errors: list[LogEvent] = []

    @implementer(ILogObserver)
    def observe(event: LogEvent) -> None:
        if event.get("log_level") in (LogLevel.error, LogLevel.critical):
            errors.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        world = _run(plan, scenarios[plan.scenario](), outcome)
    except Exception as error:  # a fault the world cannot take is a finding too
        outcome.violations.append(f"error: {type(error).__name__}: {error}")
        return outcome
    finally:
        globalLogPublisher.removeObserver(observe)
    outcome.violations += [f"error: {_said(event)}" for event in errors]
    outcome.trace = world.trace + outcome.violations
    return outcome


def _said(event: LogEvent) -> str:
    failure = event.get("log_failure")
    what = event.get("log_format") or "an error"
    return f"{what} ({failure.getErrorMessage()})" if failure is not None else str(what)


def _run(plan: Plan, world: World, outcome: Outcome) -> World:
    network = world.network
    network.shuffle(plan.order or None)
    world.start()
    for step in sorted(plan.steps, key=lambda s: s.at):
        network.advance(max(0.0, step.at - network.now))
        connection = None
        if step.when:
            connection = until(world, step.when, HORIZON)
            if connection is None:
                world.note(f"{step.line()} (no connection was)")
                continue
        struck = apply(world, step, connection)
        outcome.cells.add((plan.scenario, step.kind, struck))
        world.note(f"{step.line()} ({struck})")
    network.advance(max(0.0, HORIZON - network.now))
    calm(world, SETTLE)
    outcome.violations += _integrity(world.clients) + _unfinished(world.clients)
    for check in world.checks:
        outcome.violations += check(world)
    outcome.violations += _recovery(world)
    outcome.violations += _left_behind(world)
    return world


def _integrity(clients: list[Client]) -> list[str]:
    """Each result a client reported is the whole of what it was to get."""
    found = []
    for client in clients:
        if client.outcome is None or client.outcome[0] != "result":
            continue
        pairs = client.outcomes if client.each else [(client.expected, client.outcome[1])]
        for expected, got in pairs:
            if got is not None and got != expected:
                found.append(
                    f"integrity: {client.label} reported {len(got)} bytes as its result,"
                    f" not the {len(expected)} sent"
                )
    return found


def _unfinished(clients: list[Client]) -> list[str]:
    """Every client's result has come."""
    return [
        f"liveness: {client.label} never finished"
        for client in clients
        if client.deferred is not None and client.outcome is None
    ]


def _recovery(world: World) -> list[str]:
    """Once the faults are over, a new client of each kind gets its whole result."""
    kinds: dict[str, Client] = {}
    for client in world.clients:
        kinds.setdefault(client.kind, client.fresh())
    fresh = list(kinds.values())
    for client in fresh:
        world.client.reactor.callLater(0, client.run, world.client.reactor)
    world.network.advance(SETTLE)
    found = []
    for client in fresh:
        if client.outcome is None:
            found.append(f"recovery: a new {client.label} never finished")
        elif client.outcome != ("result", client.expected) or (
            client.each and [got for _, got in client.outcomes] != client.each
        ):
            found.append(f"recovery: a new {client.label} got {client.shown}")
    return found


def _left_behind(world: World) -> list[str]:
    """Once every service has stopped, nothing is left on the network."""
    stops = [
        maybeDeferred(server.service.stopService)
        for server in world.servers
        if server.alive and not server.stopping and server.service is not None
    ]
    world.network.advance(SETTLE)
    found = ["liveness: a service never finished stopping" for stop in stops if not stop.called]
    return found + [f"liveness: left {thing}" for thing in leftovers(world.network)]
