"""The public conformance kits across two network namespaces: the same names as in memory.

Their twins are ``tests/unit/testing/test_kits.py`` (memory) and
``test_kits_tcp.py`` (loopback). Each case runs its checks at once.
"""

from __future__ import annotations

from poetry.testing.kits import TransportChecks, in_namespaces
from tests.support.server_checks import (
    ClientChecks,
    FastServerChecks,
    SlowServerChecks,
    TrackedServerChecks,
)

TransportConformance = in_namespaces(TransportChecks, concurrent=True)
FastServerConformance = in_namespaces(FastServerChecks, concurrent=True)
SlowServerConformance = in_namespaces(SlowServerChecks, concurrent=True)
TrackedServerConformance = in_namespaces(TrackedServerChecks, concurrent=True)
ClientConformance = in_namespaces(ClientChecks, concurrent=True)
