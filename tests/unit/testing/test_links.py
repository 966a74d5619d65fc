"""Tests for L{poetry.testing.links}: cut links, latency, address faults and segmentation."""

from __future__ import annotations

from twisted.internet.protocol import Factory
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.server import PoetryServerFactory
from poetry.testing.links import Links
from tests.support import POEM
from tests.support.peers import RecordingProtocol
from tests.support.simulated import SimulatedTestCase


class LinkTests(SynchronousTestCase):
    """Links are cut one way or both, and mended both ways."""

    def test_cut_both_ways(self) -> None:
        """A cut link drops packets both ways; mending it lets them through."""
        links = Links()
        links.cut("10.0.0.1", "10.0.0.2")
        self.assertEqual(
            (links.passes("10.0.0.1", "10.0.0.2"), links.passes("10.0.0.2", "10.0.0.1")),
            (False, False),
        )
        links.mend("10.0.0.2", "10.0.0.1")
        self.assertTrue(links.passes("10.0.0.1", "10.0.0.2"))

    def test_cut_one_way(self) -> None:
        """A link cut one way drops only packets going that way."""
        links = Links()
        links.cut("10.0.0.1", "10.0.0.2", both_ways=False)
        self.assertEqual(
            (links.passes("10.0.0.1", "10.0.0.2"), links.passes("10.0.0.2", "10.0.0.1")),
            (False, True),
        )

    def test_latency_both_ways(self) -> None:
        """Latency applies each way; zero is allowed; a negative one is refused."""
        links = Links()
        links.set_latency("10.0.0.1", "10.0.0.2", 0.25)
        self.assertEqual(links.latency("10.0.0.2", "10.0.0.1"), 0.25)
        links.set_latency("10.0.0.1", "10.0.0.2", 0)
        self.assertRaises(ValueError, links.set_latency, "10.0.0.1", "10.0.0.2", -1)

    def test_times_must_be_finite(self) -> None:
        """A latency of infinity or NaN, or not a number, is refused."""
        links = Links()
        for bad in (float("inf"), float("nan"), "1"):
            self.assertRaises(ValueError, links.set_latency, "10.0.0.1", "10.0.0.2", bad)

    def test_hosts_must_be_ip_addresses(self) -> None:
        """A fault naming a host that is not an IP address is refused, not silently inert."""
        links = Links()
        self.assertRaises(ValueError, links.cut, "server", "10.0.0.2")
        self.assertRaises(ValueError, links.set_latency, "10.0.0.1", "localhost", 0.1)
        self.assertRaises(ValueError, links.refuse, "server", None)

    def test_hosts_in_any_spelling(self) -> None:
        """A fault on a host spelled another way applies to its canonical spelling."""
        links = Links()
        links.cut("::0001", "10.0.0.2", both_ways=False)
        self.assertFalse(links.passes("::1", "10.0.0.2"))

    def test_ports_must_be_ports(self) -> None:
        """An address fault on a port outside 0 to 65535 is refused."""
        links = Links()
        for bad in (-1, 65536, "80"):
            self.assertRaises(ValueError, links.swallow, "10.0.0.1", bad)

    def test_first_and_last_ports(self) -> None:
        """Ports 0 and 65535 are ports: faults on them are taken."""
        links = Links()
        links.swallow("10.0.0.1", 0)
        links.swallow("10.0.0.1", 65535)
        self.assertEqual(
            (links.swallows("10.0.0.1", 0), links.swallows("10.0.0.1", 65535)), (True, True)
        )

    def test_refusals_say_what_was_wrong(self) -> None:
        """Each refused fault says what it was given and what it takes."""
        links = Links()
        for call, message in (
            (lambda: links.cut("server", "10.0.0.2"),
             "'server' is not an IP address: the network's hosts are IP addresses"),
            (lambda: links.swallow("10.0.0.1", 65536),
             "65536 is not a port (0 to 65535, or None for every port)"),
            (lambda: links.set_latency("10.0.0.1", "10.0.0.2", -1),
             "latency must be a finite number of seconds, not negative: -1"),
            (lambda: links.set_bandwidth("10.0.0.1", "10.0.0.2", 0),
             "bandwidth must be positive: 0"),
            (lambda: links.fragment([1], seed=1), "fragment by sizes or by a seed, not both"),
            (lambda: links.fragment(seed=1.5), "a fragmentation seed is a whole number, not 1.5"),
        ):  # fmt: skip
            self.assertEqual(str(self.assertRaises(ValueError, call)), message)
        error = self.assertRaises(TypeError, links.cut, "10.0.0.1", "10.0.0.2", "10.0.0.3")
        self.assertEqual(str(error), "both_ways is True or False, not '10.0.0.3'")

    def test_both_ways_is_a_bool(self) -> None:
        """A cut is one way or both: a host passed as both_ways by mistake is caught."""
        self.assertRaises(TypeError, Links().cut, "10.0.0.1", "10.0.0.2", "10.0.0.3")

    def test_fragment_sizes_and_seed_are_whole(self) -> None:
        """Fragment sizes are positive whole numbers; a seed is a whole number."""
        links = Links()
        for sizes in ([], [0], [1.5], [True]):
            self.assertRaises(ValueError, links.fragment, sizes)
        self.assertRaises(ValueError, links.fragment, seed=1.5)

    def test_address_faults_by_port_or_all(self) -> None:
        """Refusals and black holes apply to one port or to all; restore undoes either."""
        links = Links()
        links.refuse("10.0.0.1", 80)
        links.swallow("10.0.0.2", None)
        self.assertEqual(
            (links.refuses("10.0.0.1", 80), links.refuses("10.0.0.1", 81)), (True, False)
        )
        self.assertTrue(links.swallows("10.0.0.2", 9))
        links.restore("10.0.0.1", 80)
        links.restore("10.0.0.2", None)
        self.assertEqual(
            (links.refuses("10.0.0.1", 80), links.swallows("10.0.0.2", 9)), (False, False)
        )


class BandwidthTests(SynchronousTestCase):
    """A link's bandwidth sets how long bytes take to leave; None lifts the limit."""

    def test_transmission_time(self) -> None:
        """Bytes take their size over the bandwidth to leave, however slow the link."""
        links = Links()
        links.set_bandwidth("10.0.0.1", "10.0.0.2", 0.5)
        self.assertEqual(links.transmission("10.0.0.2", "10.0.0.1", 1), 2.0)

    def test_limit_lifted(self) -> None:
        """Without a limit (or once it is lifted), bytes leave at once."""
        links = Links()
        links.set_bandwidth("10.0.0.1", "10.0.0.2", None)  # there was none: nothing changes
        links.set_bandwidth("10.0.0.1", "10.0.0.2", 100)
        links.set_bandwidth("10.0.0.1", "10.0.0.2", None)
        self.assertEqual(links.transmission("10.0.0.1", "10.0.0.2", 1000), 0.0)

    def test_no_bandwidth_refused(self) -> None:
        """A bandwidth of zero, less, infinity or NaN is refused."""
        links = Links()
        for bad in (0, -1, float("inf"), float("nan")):
            self.assertRaises(ValueError, links.set_bandwidth, "10.0.0.1", "10.0.0.2", bad)


class StallTests(SynchronousTestCase):
    """A stall holds the next connection to its port (or any port), once."""

    def test_one_port(self) -> None:
        """A stall on one port holds a connection to that port only, and only one."""
        links = Links()
        links.stall("10.0.0.1", 80)
        self.assertEqual(
            (links.stalls("10.0.0.1", 81), links.stalls("10.0.0.1", 80)), (False, True)
        )
        self.assertFalse(links.stalls("10.0.0.1", 80))

    def test_restore_one(self) -> None:
        """Restoring one port's stall leaves another port's."""
        links = Links()
        links.stall("10.0.0.1", 80)
        links.stall("10.0.0.1", 81)
        links.restore("10.0.0.1", 80)
        self.assertEqual(
            (links.stalls("10.0.0.1", 80), links.stalls("10.0.0.1", 81)), (False, True)
        )


class FragmentationTests(SimulatedTestCase):
    """Writes can arrive cut into chosen or seeded random segments."""

    def received(self) -> list[bytes]:
        """Fetch the fast server's poem into a recorder; return the packets it got."""
        client = RecordingProtocol()
        self.serve(PoetryServerFactory(POEM))
        self.connect(client)
        self.network.flush()
        return [event[1] for event in client.events if event[0] == "data"]  # type: ignore[misc]

    def test_as_written(self) -> None:
        """By default a write arrives as one packet."""
        self.assertEqual(self.received(), [POEM])

    def test_given_sizes(self) -> None:
        """With sizes, each write arrives in segments of those sizes, the last one repeated."""
        self.network.fragment(sizes=[1, 2, 30])
        packets = self.received()
        self.assertEqual([len(p) for p in packets[:4]], [1, 2, 30, 30])
        self.assertEqual(b"".join(packets), POEM)

    def test_seeded_random(self) -> None:
        """With a seed, the segments are random, but the same for the same seed."""
        self.network.fragment(seed=7)
        first = self.received()
        self.setUp()
        self.network.fragment(seed=7)
        self.assertEqual(self.received(), first)
        self.assertEqual(b"".join(first), POEM)
        self.assertGreater(len(first), 1)

    def test_one_byte_whole(self) -> None:
        """A one-byte write cannot be cut: it arrives as it is, whatever the seed."""
        links = Links()
        links.fragment(seed=1)
        self.assertEqual(links.segments(b"x"), [b"x"])

    def test_short_writes_cut_at_most_between_bytes(self) -> None:
        """A write of two or three bytes is cut only between its bytes (found by the explorer)."""
        links = Links()
        links.fragment(seed=1)
        for data in [b"ab", b"abc"] * 20:
            pieces = links.segments(data)
            self.assertEqual(b"".join(pieces), data)
            self.assertTrue(all(pieces))

    def test_sizes_that_fit_exactly(self) -> None:
        """Bytes that fill their segments exactly leave no empty segment; no bytes, none."""
        links = Links()
        links.fragment(sizes=[2])
        self.assertEqual((links.segments(b"abcd"), links.segments(b"")), ([b"ab", b"cd"], []))

    def test_two_bytes_cut(self) -> None:
        """A write of two bytes may be cut between them."""
        links = Links()
        links.fragment(seed=0)
        self.assertEqual(links.segments(b"ab"), [b"a", b"b"])

    def test_random_cuts_up_to_three(self) -> None:
        """A write is cut at no point, or up to three: in one to four segments."""
        links = Links()
        links.fragment(seed=0)
        counts = {len(links.segments(b"x" * 100)) for _ in range(50)}
        self.assertEqual(counts, {1, 2, 3, 4})

    def test_back_to_whole_writes(self) -> None:
        """Fragmenting with neither sizes nor seed goes back to whole writes; bad sizes refused."""
        self.network.fragment(sizes=[1])
        self.network.fragment()
        self.assertEqual(self.received(), [POEM])
        error = self.assertRaises(ValueError, self.network.fragment, sizes=[2, 0])
        self.assertIn("[2, 0]", str(error))

    def test_segment_size(self) -> None:
        """A write larger than the kernel's segment size arrives in segments of that size."""
        big = b"x" * (self.network.settings.segment_size + 10)
        client = RecordingProtocol()
        self.serve(Factory.forProtocol(lambda: _Sending(big)))
        self.connect(client)
        self.network.flush()
        sizes = [len(event[1]) for event in client.events if event[0] == "data"]  # type: ignore[arg-type]
        self.assertEqual(sizes, [self.network.settings.segment_size, 10])


class _Sending(RecordingProtocol):
    """A server that sends its bytes, then closes."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data

    def connectionMade(self) -> None:
        """Send, then close."""
        self.transport.write(self.data)
        self.transport.loseConnection()
