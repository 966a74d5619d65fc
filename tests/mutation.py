"""Per-module mutation scores from a ``mutmut run``, checked against the recorded ones.

Usage, at the repository root after ``mutmut run``::

    python -m tests.mutation            # print the scores; fail if one fell below its record
    python -m tests.mutation --record   # write the scores as the new record (only upwards)

A module's score is killed / generated: a timeout counts as killed; a mutant
that no test reaches, or that survives, counts against it. Lines excluded with
``# pragma: no mutate`` (each with its reason) generate no mutants at all.
The record lives in ``tests/mutation-scores.json``; the release step that runs
this is described in docs/mutation.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

MUTANTS = Path("mutants")
"""Where ``mutmut run`` leaves its results."""

RECORD = Path(__file__).with_name("mutation-scores.json")
"""The recorded per-module scores, which may only go up."""

KILLED = {1, 3, 36, 37, 24, -24, 152, 255}
"""mutmut exit codes that mean a mutant was caught (killed, timed out or type-checked)."""

FLOOR = 0.90
"""The least score the modules in L{GUARDED} must reach."""

GUARDED = (
    "core/client.py",
    "core/server.py",
    "core/closing.py",
    "core/slow_server.py",
    "core/pacer.py",
    "core/transform_server.py",
    "core/transform_client.py",
    "core/proxy.py",
    "core/connecting.py",
    "core/fetch_many.py",
    "operations/graceful.py",
    "operations/tracking.py",
    "operations/accept_limit.py",
    "operations/limit_warning.py",
    "testing/network.py",
    "testing/transport.py",
    "testing/names.py",
)
"""The modules whose score must be at least L{FLOOR}."""


def scores(results: Iterable[tuple[str, Mapping[str, int | None]]]) -> dict[str, tuple[int, int]]:
    """Return (killed, generated) for each module, given its mutants' exit codes.

    A module none of whose mutants was checked (a run limited to other modules,
    ``mutmut run "poetry.testing*"``) is left out, not scored 0.
    """
    return {
        module: (sum(code in KILLED for code in codes.values()), len(codes))
        for module, codes in results
        if any(code is not None for code in codes.values())
    }


def read_results(mutants: Path = MUTANTS) -> list[tuple[str, Mapping[str, int | None]]]:
    """Read each module's mutant exit codes from mutmut's ``.meta`` files."""
    return [
        (str(meta.relative_to(mutants / "poetry"))[: -len(".meta")],
         json.loads(meta.read_text())["exit_code_by_key"])
        for meta in sorted((mutants / "poetry").rglob("*.py.meta"))
    ]  # fmt: skip


def failures(measured: Mapping[str, tuple[int, int]], record: Mapping[str, float]) -> list[str]:
    """Name each module below its record, or a guarded one below the floor."""
    problems = []
    for module, (killed, generated) in sorted(measured.items()):
        score = killed / generated
        if score + 1e-9 < record.get(module, 0.0):
            problems.append(f"{module}: {score:.1%} is below its record {record[module]:.1%}")
        if module in GUARDED and score < FLOOR:
            problems.append(f"{module}: {score:.1%} is below the floor of {FLOOR:.0%}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Print the scores; check them against the record, or record them."""
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("--record", action="store_true", help="record the scores (only upwards)")
    args = parser.parse_args(argv)
    measured = scores(read_results())
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    for module, (killed, generated) in sorted(measured.items()):
        mark = "*" if module in GUARDED else " "
        print(f"{mark} {module:32} {killed:4} / {generated:4}  {killed / generated:6.1%}")
    problems = failures(measured, record)
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.record:
        # Rounded down, so that the score just measured is never below its own record.
        # Modules not measured in this run keep their record.
        raised = dict(record)
        for module, (killed, generated) in measured.items():
            score = math.floor(killed / generated * 10_000) / 10_000
            raised[module] = max(score, record.get(module, 0.0))
        RECORD.write_text(json.dumps(raised, indent=2, sort_keys=True) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
