"""Tests for L{poetry.testing.fidelity}: each fault, in each phase, ends in memory as on the kernel.

The same checks run on the real kernel in ``tests/integration/test_fidelity.py``
(across two network namespaces, and on loopback).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from poetry.testing.fidelity import (
    CELLS,
    CHUNK,
    PACE,
    PHASES,
    Cell,
    KernelChecks,
    Seen,
    Watcher,
    render,
    run_cell,
    slow,
)
from poetry.testing.kits import in_memory

ROOT = Path(__file__).parents[3]

KernelChecksInMemory = in_memory(KernelChecks)


class MatrixTests(SynchronousTestCase):
    """The page of the matrix is generated, current, and covers every phase."""

    def test_page_is_current(self) -> None:
        """C{docs/fidelity.md} is what C{python -m poetry.testing.fidelity} prints."""
        page = (ROOT / "docs" / "fidelity.md").read_text()
        self.assertEqual(
            page, render(), "run: python -m poetry.testing.fidelity > docs/fidelity.md"
        )

    def test_every_phase_has_cells(self) -> None:
        """Each phase of a connection has at least one cell; each cell names a known phase."""
        self.assertEqual({cell.phase for cell in CELLS}, set(PHASES))
        self.assertEqual(len({cell.name for cell in CELLS}), len(CELLS))

    def test_no_cell_differs(self) -> None:
        """No cell is marked as differing from the kernel."""
        self.assertNotIn("(differs", render())

    def test_tolerances(self) -> None:
        """A cell agrees with an outcome within its tolerances, and not past them."""
        [cell] = [c for c in CELLS if c.name == "test_reader_that_does_not_read_closing"]
        self.assertTrue(cell.agrees(Seen("reset", 113_152, 0.303)))
        self.assertFalse(cell.agrees(Seen("reset", 100_000, 0.3)))
        self.assertFalse(cell.agrees(Seen("clean", 128_512, 0.3)))
        self.assertFalse(cell.agrees(Seen("reset", 128_512, 0.7)))
        self.assertFalse(cell.agrees(Seen("reset", 128_512, None)))
        self.assertEqual(str(Seen("open", 5)), "open, 5 bytes")

    def test_time_tolerance_inclusive(self) -> None:
        """An end exactly as far from the kernel's as the tolerance still agrees."""
        cell = Cell(
            "fault", "mid-poem", Seen("clean", 0, 1.0), "", _no_scenario, time_tolerance=0.5
        )
        self.assertEqual(
            (cell.agrees(Seen("clean", 0, 1.5)), cell.agrees(Seen("clean", 0, 1.6))), (True, False)
        )

    def test_slow_server_script(self) -> None:
        """A slow server's script: its chunks a pace apart, then its end with the last (if any)."""
        self.assertEqual(
            slow(2), [(0, ("write", CHUNK)), (PACE, ("write", CHUNK)), (PACE, "close")]
        )
        self.assertEqual(slow(2, None), [(0, ("write", CHUNK)), (PACE, ("write", CHUNK))])

    def test_failed_otherwise_than_refused(self) -> None:
        """A connection that fails but is not refused is seen as failed."""
        watcher = Watcher(lambda: 1.5)
        watcher.failed(Failure(ConnectError("no route to host")))
        self.assertEqual((watcher.end, watcher.at), ("failed", 1.5))

    def test_what_the_server_kept(self) -> None:
        """A cell that looks at the server's side agrees only with the same states at each time."""
        [cell] = [c for c in CELLS if c.name == "test_reset_in_a_partition_after_the_FIN"]
        kept = ((1.5, ("FIN-WAIT-2",)), (2.5, ()))
        self.assertTrue(cell.agrees(Seen("clean", 100, 0.002, kept)))
        still = ((1.5, ("FIN-WAIT-2",)), (2.5, ("FIN-WAIT-2",)))
        self.assertFalse(cell.agrees(Seen("clean", 100, 0.0, still)))
        self.assertFalse(cell.agrees(Seen("clean", 100, 0.0)))
        self.assertEqual(
            str(Seen("clean", 100, 0.0, kept)),
            "clean, 100 bytes at 0 s; the server's side: FIN-WAIT-2 at 1.5 s, none at 2.5 s",
        )
        self.assertEqual(cell.settings, {"fin_timeout": 2})


class CellRunTests(SynchronousTestCase):
    """A cell runs on every harness, but one only loopback agrees with, across the namespaces."""

    def test_loopback_only_cell_runs_in_memory(self) -> None:
        """In memory, a cell that only loopback's kernel agrees with runs (it is not skipped)."""
        case = KernelChecksInMemory("test_reader_that_does_not_read_closing")
        result = TestResult()
        case.run(result)
        self.assertEqual((result.skips, result.failures, result.errors), ([], [], []))
        self.assertEqual(result.successes, 1)

    def test_loopback_only_cell_skipped_across_namespaces(self) -> None:
        """Across the namespaces, such a cell skips, saying what that kernel gives instead."""
        [cell] = [c for c in CELLS if c.loopback_only]
        ran = Deferred.fromCoroutine(run_cell(cell, _Namespaces()))
        self.assertEqual(str(self.failureResultOf(ran, SkipTest).value), cell.loopback_only)


class _Namespaces:
    """A harness that says it runs across namespaces (a cell skipped there never touches it)."""

    world = "namespaces"


async def _no_scenario(h: Any) -> Seen:
    """A scenario never run."""
    raise NotImplementedError
