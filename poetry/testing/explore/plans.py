"""Fault plans: timed steps of faults on a world, readable as lines and as a trial test.

A L{Plan} names a scenario (the world it runs on), the L{Step}s to take in
it, each at its time, and a seed for the order of events due at the same
instant (0: the order they were added, as Twisted's C{Clock} runs them).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

KINDS = (
    "reset server side",
    "reset client side",
    "hold",
    "release",
    "stop reading",
    "resume reading",
    "cancel",
    "partition",
    "partition to the server",
    "partition to the client",
    "heal",
    "black hole",
    "refuse",
    "restore",
    "stall",
    "latency",
    "bandwidth",
    "fragment",
    "crash",
    "exit",
    "restart",
    "clock step",
)
"""Every kind of fault a step can take, simplest first (shrinking prefers the first)."""

CONNECTION_KINDS = frozenset(
    {"reset server side", "reset client side", "hold", "release", "stop reading", "resume reading"}
)
"""The kinds whose target is a connection (by the order connections were made)."""

PROCESS_KINDS = frozenset({"crash", "exit", "restart", "clock step"})
"""The kinds whose target is a server process (by its place among the world's servers)."""

PHASES = ("connecting", "before the first byte", "mid-poem", "after the FIN", "closing")
"""The phases of a connection, as its client sees it, in the order it goes through them.

A step can wait for a connection to be in one (L{Step.when}); a step that
strikes when no connection is open strikes in the phase C{idle}.
"""


@dataclass(frozen=True)
class Step:
    """One fault: at ``at`` seconds, ``kind``, on ``target``, with ``value`` if it takes one.

    ``target`` counts connections in the order they were made, clients in
    the order they started, servers (and the links to them) in the world's
    order, wrapping around; a step on connections before any is made does
    nothing, and so does a step on a dead server, but a restart. With
    ``when`` (one of L{PHASES}), the step waits from ``at`` until a
    connection is in that phase, and a step on a connection strikes that
    one; if none is before the plan's horizon, the step does nothing.
    """

    at: float
    kind: str
    target: int = 0
    value: float = 0.0
    when: str = ""

    def line(self) -> str:
        """The step as a line a person reads."""
        if self.when:
            return f"t>={self.at:.2f}, once a connection is {self.when}: {self._what()}"
        return f"t={self.at:.2f} {self._what()}"

    def _what(self) -> str:
        """What the step does, in words."""
        what = {
            "cancel": f"cancel client {self.target}",
            "latency": f"set the latency to server {self.target} to {self.value:g} s",
            "bandwidth": f"limit the link to server {self.target} to {self.value:g} bytes/s",
            "fragment": f"cut later writes at random (seed {int(self.value)})",
            "clock step": f"step server {self.target}'s clock by {self.value:+g} s",
        }.get(self.kind)
        if what is None and self.kind in CONNECTION_KINDS:
            what = f"{self.kind} of {'it' if self.when else f'connection {self.target}'}"
        return what or f"{self.kind} (server {self.target})"

    def source(self) -> str:
        """The step as Python code, for a pasted test."""
        arguments = [f"{self.at!r}", _quoted(self.kind)]
        if self.target:
            arguments.append(f"target={self.target!r}")
        if self.value:
            arguments.append(f"value={self.value!r}")
        if self.when:
            arguments.append(f"when={_quoted(self.when)}")
        return f"Step({', '.join(arguments)})"


@dataclass(frozen=True)
class Plan:
    """A scenario, its fault steps, and the seed of the order of same-instant events (0: none)."""

    scenario: str
    steps: tuple[Step, ...] = ()
    order: int = 0

    @property
    def faults(self) -> int:
        """How many steps the plan takes."""
        return len(self.steps)

    def lines(self) -> list[str]:
        """The plan as lines a person reads."""
        order = "as added" if not self.order else f"drawn from seed {self.order}"
        head = f"scenario {self.scenario}; events due at the same instant: {order}"
        return [head, *(step.line() for step in sorted(self.steps, key=lambda s: s.at))]

    def source(self, indent: int = 8) -> str:
        """The plan as Python code, its lines after the first indented by ``indent``."""
        inner = " " * (indent + 4)
        steps = "".join(f"{inner}    {step.source()},\n" for step in self.steps)
        return (
            f"Plan(\n{inner}{_quoted(self.scenario)},\n{inner}(\n{steps}{inner}),\n"
            f"{inner}order={self.order},\n{' ' * indent})"
        )

    def test(self, name: str, found: str) -> str:
        """A trial test method that runs this plan, failing as long as ``found`` is true of it."""
        said = "".join(f"        {line}\n" for line in textwrap.wrap(found, 88))
        return (
            f"    def {name}(self) -> None:\n"
            '        """Found by poetry.testing.explore.\n'
            "\n"
            f"{said}"
            '        """\n'
            "        from poetry.testing.explore import Plan, Step, run_plan\n"
            "\n"
            f"        plan = {self.source()}\n"
            "        self.assertEqual(run_plan(plan).violations, [])\n"
        )


def _quoted(text: str) -> str:
    """``text`` as a Python string literal, in double quotes."""
    return json.dumps(text)
