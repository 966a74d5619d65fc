"""The public conformance kits over loopback TCP: the same names as ``tests/unit/test_kits.py``."""

from __future__ import annotations

from poetry.testing.kits import TransportChecks, over_tcp
from tests.support.server_checks import (
    ClientChecks,
    FastServerChecks,
    SlowServerChecks,
    TrackedServerChecks,
)

TransportConformance = over_tcp(TransportChecks, name="TransportConformance")
FastServerConformance = over_tcp(FastServerChecks, name="FastServerConformance")
SlowServerConformance = over_tcp(SlowServerChecks, name="SlowServerConformance")
TrackedServerConformance = over_tcp(TrackedServerChecks, name="TrackedServerConformance")
ClientConformance = over_tcp(ClientChecks, name="ClientConformance")
