"""Kits whose checks ask for kernel settings (``kernel_settings``), for the harnesses' tests.

``tests/unit/testing/test_kits.py`` runs them in memory, ``tests/integration/test_kits_tcp.py``
and ``test_kits_namespaces.py`` on the real kernel.
"""

from __future__ import annotations

from typing import Any

from poetry.testing.kits import kernel_settings


class SetChecks:
    """A kit with a check that asks for kernel settings, and one that does not."""

    @kernel_settings(fin_timeout=2)
    async def test_set(self: Any) -> None:
        """Runs on kernels whose C{fin_timeout} is 2 s."""

    async def test_unset(self: Any) -> None:
        """Runs on kernels with the default settings."""


class UnsettableChecks:
    """A kit with a check that asks for a setting Linux has no sysctl for."""

    @kernel_settings(rto_min=0.1)
    async def test_rto_min(self: Any) -> None:
        """Runs on kernels whose least retransmission timeout is 0.1 s."""
