"""The public conformance kits over loopback TCP: the same names as in memory.

Their twins are ``tests/unit/testing/test_kits.py`` (memory) and
``test_kits_namespaces.py`` (two network namespaces).
"""

from __future__ import annotations

from poetry.testing.kits import TransportChecks, over_tcp
from tests.support.server_checks import (
    ClientChecks,
    FastServerChecks,
    SlowServerChecks,
    TrackedServerChecks,
)

TransportConformance = over_tcp(TransportChecks)
FastServerConformance = over_tcp(FastServerChecks)
SlowServerConformance = over_tcp(SlowServerChecks)
TrackedServerConformance = over_tcp(TrackedServerChecks)
ClientConformance = over_tcp(ClientChecks)
