"""The fidelity matrix's checks on the real kernel: across two network namespaces, and on loopback.

Their twins in memory are ``tests/unit/testing/test_fidelity.py``: the same
check names, the same expected outcomes. Each case runs its checks at once
(each with a harness of its own), so the tier takes the time of the slowest.
"""

from __future__ import annotations

from poetry.testing.fidelity import KernelChecks
from poetry.testing.kits import in_namespaces, over_tcp

KernelChecksInNamespaces = in_namespaces(KernelChecks, concurrent=True)
KernelChecksOverTCP = over_tcp(KernelChecks, concurrent=True)
