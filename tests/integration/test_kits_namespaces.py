"""The public conformance kits across two network namespaces: the same names as in memory.

Their twins are ``tests/unit/testing/test_kits.py`` (memory) and
``test_kits_tcp.py`` (loopback). Each case runs its checks at once.
"""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SkipTest, TestCase

from poetry.testing.kits import TransportChecks, in_namespaces
from poetry.testing.namespaces import namespaces_unavailable
from tests.support.kit_settings import SetChecks, UnsettableChecks
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


class SettingsTests(TestCase):
    """A check that asks for kernel settings has a pair of its own, with those sysctls."""

    skip = namespaces_unavailable()

    async def test_own_pair_with_sysctls(self) -> None:
        """Both namespaces of the check's own pair have the sysctl; the host's is unchanged."""
        host = Path("/proc/sys/net/ipv4/tcp_fin_timeout").read_text()
        check = in_namespaces(SetChecks, name="Set")("test_set")
        check.setUp()
        try:
            for side in ("server", "client"):
                value = check.pair.run(side, "sysctl", "-n", "net.ipv4.tcp_fin_timeout")
                self.assertEqual(value.strip(), "2")
            self.assertEqual(check.pair.sysctls, {"net.ipv4.tcp_fin_timeout": 2})
        finally:
            await check.finish()
        self.assertEqual(Path("/proc/sys/net/ipv4/tcp_fin_timeout").read_text(), host)
        self.assertFalse(Path(f"/var/run/netns/{check.pair.names['server']}").exists())

    def test_unsettable_skips(self) -> None:
        """A setting with no sysctl skips the check as it is set up, naming it."""
        check = in_namespaces(UnsettableChecks, name="Unsettable")("test_rto_min")
        with self.assertRaises(SkipTest) as skipped:
            check.setUp()
        self.assertIn("rto_min is no sysctl", str(skipped.exception))
