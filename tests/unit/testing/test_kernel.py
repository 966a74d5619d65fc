"""Tests for L{poetry.testing.kernel}: the kernels' settings, the wire, ports and listeners."""

from __future__ import annotations

import errno
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import KernelSettings
from poetry.testing.kernel import SYSCTLS, Kernel, Lane, as_sysctls
from poetry.testing.links import Links


class SettingsTests(SynchronousTestCase):
    """Linux's defaults, or the machine's own sysctls."""

    def test_syn_schedule(self) -> None:
        """SYNs go 1 s apart for the linear tries, then at doubling intervals, capped."""
        settings = KernelSettings()
        self.assertEqual(
            [settings.syn_interval(n) for n in range(1, 11)],
            [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
        )
        self.assertEqual(settings.syn_attempts, 11)
        self.assertEqual(KernelSettings(syn_linear_timeouts=0).syn_interval(3), 4.0)
        self.assertEqual(KernelSettings(rto_max=5).syn_interval(9), 5.0)

    def test_retransmission_schedule(self) -> None:
        """A tail loss probe first, then the round trip plus C{rto_min}, doubling, capped."""
        settings = KernelSettings()
        intervals = [round(settings.retransmit_interval(0.1, n), 9) for n in (1, 2, 3, 4)]
        self.assertEqual(intervals, [0.3, 0.3, 0.6, 1.2])  # the probe is at most the timeout
        self.assertEqual(settings.retransmit_interval(0.0, 1), 0.2)  # one segment out
        self.assertEqual(settings.retransmit_interval(0.0, 1, segments=2), 0.01)
        self.assertEqual(round(settings.retransmit_interval(0.001, 1, segments=3), 9), 0.01)
        self.assertEqual(settings.retransmit_interval(0, 20), 120.0)

    def test_probe_with_more_segments_out(self) -> None:
        """With more than one segment out, the probe comes after twice the round trip."""
        self.assertEqual(KernelSettings().retransmit_interval(0.1, 1, segments=2), 0.2)

    def test_impossible_settings(self) -> None:
        """A zero buffer, a negative or NaN time, a fractional count: each is refused."""
        for bad in (
            {"receive_buffer": 0},
            {"segment_size": 1.5},
            {"rto_min": float("nan")},
            {"delayed_ack": -0.1},
            {"retries": -1},
            {"max_backlog": True},
            {"rto_min": 3.0, "rto_max": 2.0},
        ):
            self.assertRaises(ValueError, KernelSettings, **bad)

    def test_impossible_settings_named(self) -> None:
        """A refused setting is named, with what it must be and what it was."""
        for bad, message in (
            ({"receive_buffer": 0}, "receive_buffer must be a whole number, positive: 0"),
            ({"retries": -1}, "retries must be a whole number, not negative: -1"),
            (
                {"rto_min": -1.0},
                "rto_min must be a finite number of seconds, not negative: -1.0",
            ),
            ({"rto_min": 3.0, "rto_max": 2.0}, "rto_min (3.0) is more than rto_max (2.0)"),
        ):
            error = self.assertRaises(ValueError, KernelSettings, **bad)
            self.assertEqual(str(error), message)

    def test_least_settings(self) -> None:
        """A size of one byte, no retries, and equal timeouts are settings a kernel can have."""
        settings = KernelSettings(segment_size=1, receive_buffer=1, retries=0, rto_max=0.2)
        self.assertEqual((settings.segment_size, settings.rto_min), (1, settings.rto_max))

    def test_from_host(self) -> None:
        """The machine's sysctls give the retries, backlog and C{fin_timeout}; the rest stay."""
        root = Path(self.mktemp())
        (root / "ipv4").mkdir(parents=True)
        (root / "core").mkdir()
        (root / "ipv4" / "tcp_syn_retries").write_text("3\n")
        (root / "ipv4" / "tcp_retries2").write_text("8\n")
        (root / "ipv4" / "tcp_synack_retries").write_text("not a number\n")
        (root / "core" / "somaxconn").write_text("128\n")
        (root / "ipv4" / "tcp_fin_timeout").write_text("30\n")
        settings = KernelSettings.from_host(root)
        self.assertEqual(
            (settings.syn_retries, settings.retries, settings.max_backlog, settings.fin_timeout),
            (3, 8, 128, 30),
        )
        self.assertEqual(settings.syn_linear_timeouts, 0)  # a kernel without the setting
        self.assertEqual(settings.synack_retries, KernelSettings().synack_retries)
        self.assertEqual(KernelSettings.from_host(Path(self.mktemp())), KernelSettings())

    def test_from_host_with_every_setting(self) -> None:
        """A kernel with every setting (Linux 6.x) gives its linear SYN tries and SYN-ACK tries."""
        root = Path(self.mktemp())
        (root / "ipv4").mkdir(parents=True)
        (root / "ipv4" / "tcp_syn_linear_timeouts").write_text("2\n")
        (root / "ipv4" / "tcp_synack_retries").write_text("3\n")
        settings = KernelSettings.from_host(root)
        self.assertEqual((settings.syn_linear_timeouts, settings.synack_retries), (2, 3))

    def test_fin_wait_timeout(self) -> None:
        """An orphan in FIN-WAIT-2 waits C{fin_timeout}, at least three and a half timeouts."""
        self.assertEqual(KernelSettings().fin_wait_timeout(0.0), 60.0)
        self.assertEqual(KernelSettings(fin_timeout=2).fin_wait_timeout(0.0), 2.0)
        self.assertAlmostEqual(KernelSettings(fin_timeout=0).fin_wait_timeout(0.0), 0.7)
        self.assertAlmostEqual(KernelSettings(fin_timeout=1).fin_wait_timeout(0.2), 1.4)

    def test_as_sysctls(self) -> None:
        """Settings with a sysctl become it; others, or fractions, are refused."""
        self.assertEqual(
            as_sysctls({"fin_timeout": 2.0, "max_backlog": 128}),
            {"net.ipv4.tcp_fin_timeout": 2, "net.core.somaxconn": 128},
        )
        self.assertEqual(
            set(as_sysctls(dict.fromkeys(SYSCTLS, 1))),
            {"net." + path.replace("/", ".") for path in SYSCTLS.values()},
        )
        with self.assertRaises(ValueError) as refused:
            as_sysctls({"rto_min": 0.2})
        self.assertIn("rto_min is no sysctl", str(refused.exception))
        with self.assertRaises(ValueError) as fraction:
            as_sysctls({"fin_timeout": 2.5})
        self.assertIn("whole number", str(fraction.exception))

    def test_describe(self) -> None:
        """The settings describe themselves by name."""
        self.assertEqual(KernelSettings().describe()["receive_buffer"], 128_512)


class WireTests(SynchronousTestCase):
    """Packets cross the wire in order, after the latency, unless a cut link drops them."""

    def setUp(self) -> None:
        """A kernel on a clock the test sets."""
        self.time = 0.0
        self.links = Links()
        self.kernel = Kernel(KernelSettings(), self.links, lambda: self.time)
        self.landed: list[str] = []

    def send(self, what: str, lane: Lane | None = None) -> bool:
        """Carry a packet from 10.0.0.1 to 10.0.0.2 that notes its name when it lands."""
        return self.kernel.carry(
            "10.0.0.1", "10.0.0.2", lambda: self.landed.append(what), what, lane=lane
        )

    def run_until(self, time: float) -> None:
        """Let the kernel's events due by ``time`` happen."""
        self.time = time
        self.kernel.timeline.run_due(time)

    def test_in_order_in_a_lane(self) -> None:
        """A packet sent after another in its lane never arrives before it, whatever the latency."""
        lane = Lane()
        self.links.set_latency("10.0.0.1", "10.0.0.2", 1)
        self.send("first", lane)
        self.links.set_latency("10.0.0.1", "10.0.0.2", 0)
        self.send("second", lane)
        self.send("unlaned")
        self.run_until(0)
        self.assertEqual(self.landed, ["unlaned"])
        self.run_until(1)
        self.assertEqual(self.landed, ["unlaned", "first", "second"])

    def test_lost_when_cut_at_either_end(self) -> None:
        """A packet is lost if the link is cut when it leaves, or when it would arrive."""
        self.links.cut("10.0.0.1", "10.0.0.2")
        self.assertFalse(self.send("at the start"))
        self.links.mend("10.0.0.1", "10.0.0.2")
        self.links.set_latency("10.0.0.1", "10.0.0.2", 1)
        self.assertTrue(self.send("in flight"))
        self.links.cut("10.0.0.1", "10.0.0.2")
        self.run_until(1)
        self.assertEqual(self.landed, [])

    def test_named_while_in_flight(self) -> None:
        """A packet in flight is pending under its name (reports name what is left)."""
        self.links.set_latency("10.0.0.1", "10.0.0.2", 1)
        self.send("SYN")
        self.assertEqual([(e.what, e.time) for e in self.kernel.timeline.pending()], [("SYN", 1.0)])

    def test_no_size_no_transmission_time(self) -> None:
        """A packet carrying no bytes (a SYN, an ACK) leaves at once, whatever the bandwidth."""
        self.links.set_bandwidth("10.0.0.1", "10.0.0.2", 10)
        self.send("ACK", Lane())
        self.run_until(0)
        self.assertEqual(self.landed, ["ACK"])

    def test_round_trip(self) -> None:
        """A round trip is the latency there and the latency back."""
        self.links.set_latency("10.0.0.1", "10.0.0.2", 0.1)
        self.assertEqual(self.kernel.round_trip("10.0.0.1", "10.0.0.2"), 0.2)

    def test_no_record_by_default(self) -> None:
        """A kernel by itself keeps no record of the connections made (a network does)."""
        self.assertIsNone(self.kernel.connection_made(object()))

    def test_unlisten_where_no_one_listens(self) -> None:
        """To stop listening where no one listens changes nothing."""
        self.kernel.unlisten("10.0.0.1", 80)
        self.assertIsNone(self.kernel.listener("10.0.0.1", 80))

    def test_ports(self) -> None:
        """A bound address is taken until given back; port 0 gives a free one."""
        self.assertEqual(self.kernel.bind("10.0.0.1", 0, listening=True), 40000)
        self.assertEqual(self.kernel.bind("10.0.0.1", 0, listening=False), 50000)
        error = self.assertRaises(OSError, self.kernel.bind, "10.0.0.1", 40000, True)
        self.assertEqual(error.errno, errno.EADDRINUSE)
        self.assertIn("10.0.0.1:40000", str(error))
        self.kernel.unbind("10.0.0.1", 40000)
        self.assertEqual(self.kernel.bind("10.0.0.1", 40000, listening=True), 40000)
