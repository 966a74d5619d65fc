"""Tests for L{poetry.testing.fidelity}: each fault, in each phase, ends in memory as on the kernel.

The same checks run on the real kernel in ``tests/integration/test_fidelity.py``
(across two network namespaces, and on loopback).
"""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.fidelity import CELLS, PHASES, KernelChecks, Seen, render
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
