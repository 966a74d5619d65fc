"""What a search reached: each kind of fault, in each phase of a connection, in each scenario.

Like Antithesis' "sometimes" assertions, the goals are cells a search must
reach at least once: a kind of fault striking while a connection of the
scenario is in a phase (L{PHASES}). The report names every goal no plan
reached; a goal that cannot be reached is listed in L{UNREACHABLE}, with why.
"""

from __future__ import annotations

from collections.abc import Iterable

from poetry.testing.explore.plans import KINDS, PHASES
from poetry.testing.explore.runner import Cell

UNREACHABLE: dict[tuple[str, str], str] = {
    ("transform", "after the FIN"): (
        "the transform service closes its side once it has replied to a client that"
        " half-closed: by the time the reply's FIN arrives, the server is closing"
    ),
}
"""Goals (scenario, phase) no plan can reach with any kind of fault, and why."""


def goals(scenarios: Iterable[str]) -> set[Cell]:
    """Every goal of ``scenarios``: each kind of fault in each phase that can be reached."""
    return {
        (scenario, kind, phase)
        for scenario in scenarios
        for kind in KINDS
        for phase in PHASES
        if (scenario, phase) not in UNREACHABLE
    }


def missed(scenarios: Iterable[str], cells: Iterable[Cell]) -> list[Cell]:
    """The goals of ``scenarios`` that ``cells`` did not reach, in the order of the tables."""
    left = goals(scenarios) - set(cells)
    return sorted(left, key=lambda g: (g[0], KINDS.index(g[1]), PHASES.index(g[2])))


def report(scenarios: Iterable[str], cells: Iterable[Cell], shown: int | None = None) -> list[str]:
    """Lines of the report: per scenario, how many goals were reached, and (``shown``) which not."""
    reached = set(cells)
    lines = []
    for scenario in scenarios:
        mine = goals([scenario])
        never = missed([scenario], reached)
        lines.append(f"{scenario}: {len(mine) - len(never)} of {len(mine)} goals reached")
        lines += [
            f"  never: {kind} while a connection is {phase}" for _, kind, phase in never[:shown]
        ]
        if shown is not None and len(never) > shown:
            lines.append(f"  and {len(never) - shown} more")
    return lines
