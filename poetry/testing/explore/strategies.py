"""Fault plans as Hypothesis strategies: compose them for your own worlds, shrink them as you go.

L{steps} draws fault steps of the kinds given, at times within a horizon,
on targets by number, each at its time or once a connection is in a phase;
L{plans} draws whole plans for a scenario, with a seed for the order of
events due at the same instant; L{sweep} lists the plans of one fault each.
Shrinking goes toward fewer steps, earlier times, the simpler kinds (first
in the list), target 0, no phase to wait for, and order 0 (the order things
were added).
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from poetry.testing.explore.plans import KINDS, PHASES, Plan, Step

TICK = 0.05
"""The times of steps are multiples of this many seconds."""

VALUES = {
    "latency": (0.0, 0.01, 0.05, 0.2),
    "bandwidth": (0.0, 2_000.0, 200.0),
    "fragment": (1.0, 2.0, 3.0),
    "clock step": (-10.0, 10.0, -1.0),
}
"""The values a step of each kind that takes one may have (the first is the simplest)."""


@st.composite
def _step(draw: st.DrawFn, kinds: Sequence[str], horizon: float, targets: int) -> Step:
    kind = draw(st.sampled_from(list(kinds)))
    at = draw(st.integers(0, int(horizon / TICK))) * TICK
    target = draw(st.integers(0, targets - 1))
    value = draw(st.sampled_from(VALUES[kind])) if kind in VALUES else 0.0
    when = draw(st.sampled_from(("", *PHASES)))
    return Step(round(at, 2), kind, target, value, when)


def steps(
    kinds: Sequence[str] = KINDS,
    horizon: float = 1.5,
    targets: int = 4,
    max_steps: int = 5,
) -> st.SearchStrategy[tuple[Step, ...]]:
    """Fault steps of ``kinds``, at times within ``horizon`` s, on targets below ``targets``."""
    return st.lists(_step(kinds, horizon, targets), max_size=max_steps).map(tuple)


def sweep(scenario: str, kinds: Sequence[str] = KINDS) -> list[Plan]:
    """One plan per kind of fault and phase: the fault alone, once a connection is in the phase.

    Each takes the kind's strongest value (the last of L{VALUES}). A search
    runs these first, so that every kind of fault strikes in every phase
    before any combination is drawn.
    """
    return [
        Plan(scenario, (Step(0.0, kind, 0, VALUES[kind][-1] if kind in VALUES else 0.0, when),))
        for when in PHASES
        for kind in kinds
    ]


def plans(
    scenario: str,
    kinds: Sequence[str] = KINDS,
    horizon: float = 1.5,
    max_steps: int = 5,
) -> st.SearchStrategy[Plan]:
    """Plans for ``scenario``: its steps, and the seed of the order of same-instant events."""
    return st.builds(
        Plan,
        st.just(scenario),
        steps(kinds, horizon, max_steps=max_steps),
        st.integers(0, 2**16),
    )
