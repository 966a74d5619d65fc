"""The public conformance kits on the in-memory network (their TCP twins: ``test_kits_tcp.py``)."""

from __future__ import annotations

from poetry.testing.kits import TransportChecks, in_memory
from tests.support.server_checks import (
    ClientChecks,
    FastServerChecks,
    SlowServerChecks,
    TrackedServerChecks,
)

TransportConformance = in_memory(TransportChecks, name="TransportConformance")
FastServerConformance = in_memory(FastServerChecks, name="FastServerConformance")
SlowServerConformance = in_memory(SlowServerChecks, name="SlowServerConformance")
TrackedServerConformance = in_memory(TrackedServerChecks, name="TrackedServerConformance")
ClientConformance = in_memory(ClientChecks, name="ClientConformance")
