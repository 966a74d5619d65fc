"""The public conformance kits over loopback TCP: the same names as in memory.

Their twins are ``tests/unit/testing/test_kits.py`` (memory) and
``test_kits_namespaces.py`` (two network namespaces).
"""

from __future__ import annotations

from twisted.trial.unittest import SkipTest, TestCase

from poetry.testing.kits import TransportChecks, over_tcp
from tests.support.kit_settings import SetChecks
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


class SettingsTests(TestCase):
    """Loopback's kernel is the host's own: a check that asks for kernel settings skips."""

    async def test_settings_skip(self) -> None:
        """The check skips as it is set up, saying why; one that asks for none does not."""
        case = over_tcp(SetChecks, name="Set")
        with self.assertRaises(SkipTest) as skipped:
            case("test_set").setUp()
        self.assertIn("loopback's kernel is the host's own", str(skipped.exception))
        plain = case("test_unset")
        plain.setUp()
        await plain.finish()
