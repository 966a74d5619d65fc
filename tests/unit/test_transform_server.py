"""Tests for L{poetry.core.transform_server}: one request answered, hostile input survived."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IProtocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.transform_server import TransformFactory
from poetry.core.transforms import TRANSFORMS
from tests.support import (
    CapturedEvents,
    assert_no_delayed_calls,
    captured_events,
    connect_server,
    netstring,
)
from tests.support.peers import broken_transform
from tests.support.properties import split

PEER = IPv4Address("TCP", "10.0.0.7", 4321)
"""The client's address in these tests."""


def reply_read(protocol: IProtocol) -> None:
    """The client has read everything sent: the clean close the server asked for happens."""
    protocol.connectionLost(Failure(ConnectionDone()))


class TransformServerTests(SynchronousTestCase):
    """The transform server answers the first request with one netstring, then closes."""

    def setUp(self) -> None:
        """Connect one client to a server with a 100-byte limit and a 5-second idle timeout."""
        self.clock = Clock()
        self.factory = TransformFactory(
            self.clock,
            transforms={**TRANSFORMS, "broken": broken_transform},
            max_length=100,
            idle_timeout=5,
            write_timeout=10,
        )
        self.protocol, self.transport = connect_server(
            self.factory, StringTransport(peerAddress=PEER)
        )
        self.addCleanup(self.close_as_asked)

    def close_as_asked(self) -> None:
        """Let the client read what it was sent, so the close the server asked for happens.

        A L{StringTransport} only records that the server asked to close; this
        is the close, once the reply is flushed. (A cleanup: it runs before
        the checks for timers left behind.)
        """
        if self.transport.disconnecting and not self.transport.disconnected:
            reply_read(self.protocol)

    def send(self, data: bytes) -> bytes:
        """Send ``data`` from the client; return everything the server wrote."""
        self.protocol.dataReceived(data)
        return self.transport.value()

    def send_logged(self, data: bytes) -> CapturedEvents:
        """Send ``data`` from the client; return the log events it caused."""
        with captured_events() as events:
            self.protocol.dataReceived(data)
        return events

    def test_transform_logged(self) -> None:
        """A transformed poem is logged with its size, the transform's name and the peer."""
        events = self.send_logged(netstring(b"shout.Tyger"))
        [done] = events.named("poem-transformed")
        self.assertEqual((done["size"], done["name"], done["peer"]), (5, "shout", "10.0.0.7:4321"))

    def test_transforms(self) -> None:
        """A request gets the transformed poem as one netstring, then a clean close."""
        self.assertEqual(
            self.send(netstring(b"cummingsify.Tyger Tyger")), netstring(b"tyger tyger")
        )
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)

    def test_every_split(self) -> None:
        """The request is understood whatever packets it arrives in."""
        request = netstring(b"shout.burning bright")
        for size in range(1, len(request) + 1):
            protocol, transport = connect_server(self.factory, StringTransport())
            for start in range(0, len(request), size):
                protocol.dataReceived(request[start : start + size])
            self.assertEqual(transport.value(), netstring(b"BURNING BRIGHT"), f"split {size}")
            reply_read(protocol)
        self.protocol.connectionLost(Failure(ConnectionDone()))

    def test_empty_poem(self) -> None:
        """An empty poem is transformed into an empty poem."""
        self.assertEqual(self.send(netstring(b"shout.")), netstring(b""))

    def test_unknown_transform(self) -> None:
        """An unknown transform gets an error reply naming it."""
        self.assertEqual(
            self.send(netstring(b"sing.la la")), netstring(b"error: unknown transform 'sing'")
        )
        self.assertTrue(self.transport.disconnecting)

    def test_long_unknown_name_echoed_short(self) -> None:
        """A long unknown name is echoed as its first 40 bytes and its length, reply and log."""
        factory = TransformFactory(self.clock)
        protocol, transport = connect_server(factory, StringTransport(peerAddress=PEER))
        with captured_events() as events:
            protocol.dataReceived(netstring(b"\xff" * 100_000 + b".poem"))
        shown = "'" + "\\xff" * 40 + "'... (100000 bytes)"
        self.assertEqual(transport.value(), netstring(f"error: unknown transform {shown}".encode()))
        [unknown] = events.named("unknown-transform")
        self.assertEqual((unknown["name"], unknown["peer"]), (shown, "10.0.0.7:4321"))
        protocol.connectionLost(Failure(ConnectionDone()))
        self.protocol.connectionLost(Failure(ConnectionDone()))

    def test_lowest_byte_not_utf8_escaped(self) -> None:
        r"""The byte 0x80, the lowest that cannot start a UTF-8 character, is echoed as C{\x80}."""
        self.assertEqual(
            self.send(netstring(b"\x80.poem")), netstring(b"error: unknown transform '\\x80'")
        )

    def test_name_of_40_bytes_echoed_whole(self) -> None:
        """An unknown name of exactly 40 bytes is echoed whole, with no length after it."""
        self.assertEqual(
            self.send(netstring(b"n" * 40 + b".poem")),
            netstring(b"error: unknown transform '" + b"n" * 40 + b"'"),
        )

    def test_name_escaped(self) -> None:
        """Quotes, backslashes and line breaks in an unknown name are escaped; UTF-8 shows as is."""
        reply = self.send(netstring("it's\\\n\u00c6.poem".encode()))
        self.assertEqual(
            reply, netstring("error: unknown transform 'it\\'s\\\\\\n\u00c6'".encode())
        )

    def test_no_dot(self) -> None:
        """A request without a '.' gets an error reply."""
        events = self.send_logged(netstring(b"cummingsify"))
        self.assertEqual(
            self.transport.value(),
            netstring(b"error: request has no '.' between transform name and poem"),
        )
        [no_dot] = events.named("request-without-dot")
        self.assertEqual(no_dot["peer"], "10.0.0.7:4321")

    def test_transform_raises(self) -> None:
        """A transform that raises gets an error reply with the reason; the traceback is logged."""
        events = self.send_logged(netstring(b"broken.poem"))
        self.assertEqual(
            self.transport.value(), netstring(b"error: transform 'broken' failed: out of ink")
        )
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        [failed] = events.named("transform-failed")
        self.assertEqual((failed["name"], failed["peer"]), ("broken", "10.0.0.7:4321"))

    def test_second_request_in_packet_ignored(self) -> None:
        """Two requests in one packet: only the first is answered."""
        reply = self.send(netstring(b"shout.one") + netstring(b"shout.two"))
        self.assertEqual(reply, netstring(b"ONE"))

    def test_bytes_after_answer_ignored(self) -> None:
        """Bytes that arrive after the answer (even a whole request) change nothing."""
        self.send(netstring(b"shout.one"))
        self.assertEqual(self.send(netstring(b"shout.two")), netstring(b"ONE"))

    def test_malformed_lengths(self) -> None:
        """A non-digit, negative or zero-padded length, or a missing comma, closes unanswered."""
        malformed = [b"x5:hello,", b"-5:hello,", b"05:hello,", b"5:hello!", b":hello,", b"0123456:"]
        for bad in malformed:
            protocol, transport = connect_server(self.factory, StringTransport(peerAddress=PEER))
            with captured_events() as events:
                protocol.dataReceived(bad)
            self.assertEqual(transport.value(), b"", bad)
            self.assertTrue(transport.disconnecting, bad)
            self.assertEqual(events.names(), ["request-malformed"], bad)
            self.assertEqual(events.named("request-malformed")[0]["peer"], "10.0.0.7:4321")
            protocol.connectionLost(Failure(ConnectionDone()))
        self.protocol.connectionLost(Failure(ConnectionDone()))

    def test_length_over_limit(self) -> None:
        """A request longer than the limit closes the connection unanswered."""
        self.assertEqual(self.send(b"101:"), b"")
        self.assertTrue(self.transport.disconnecting)

    def test_length_over_limit_logged_as_such(self) -> None:
        """A length over the limit, in any split, is logged as too long, not as malformed."""
        for request in [b"101:", b"1000", b"99999999999999999999:"]:
            for size in range(1, len(request) + 1):
                protocol, transport = connect_server(
                    self.factory, StringTransport(peerAddress=PEER)
                )
                with captured_events() as events:
                    for start in range(0, len(request), size):
                        protocol.dataReceived(request[start : start + size])
                self.assertTrue(transport.disconnecting, (request, size))
                self.assertEqual(events.names(), ["request-too-long"], (request, size))
                [too_long] = events.named("request-too-long")
                self.assertEqual((too_long["limit"], too_long["peer"]), (100, "10.0.0.7:4321"))
                protocol.connectionLost(Failure(ConnectionDone()))
        self.protocol.connectionLost(Failure(ConnectionDone()))

    def test_bad_request_at_limit_logged_as_malformed(self) -> None:
        """A request of exactly the limit's length that is malformed is logged as malformed."""
        events = self.send_logged(b"100:" + b"x" * 100 + b"!")
        self.assertTrue(self.transport.disconnecting)
        self.assertEqual(events.names(), ["request-malformed"])

    def test_length_at_limit(self) -> None:
        """A request exactly at the limit is answered."""
        poem = b"a" * (100 - len(b"shout."))
        self.assertEqual(self.send(netstring(b"shout." + poem)), netstring(poem.upper()))

    def test_truncated_request(self) -> None:
        """A client that leaves mid-request gets nothing, and that is logged."""
        self.send(b"20:shout.half")
        with captured_events() as events:
            self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.transport.value(), b"")
        self.assertEqual(events.names(), ["client-left-early"])
        self.assertEqual(events.named("client-left-early")[0]["peer"], "10.0.0.7:4321")

    def test_half_close_mid_request(self) -> None:
        """A client that closes its side before its request is whole is reset, with no reply."""
        self.send(b"20:shout.half")
        with captured_events() as events:
            self.protocol.readConnectionLost()
        self.assertEqual(self.transport.value(), b"")
        self.assertTrue(self.transport.disconnected)  # aborted: the client sees a reset
        self.assertEqual(events.names(), ["request-half-closed"])
        self.assertEqual(events.named("request-half-closed")[0]["peer"], "10.0.0.7:4321")

    def test_half_close_after_request(self) -> None:
        """A client that closes its side once its request is sent keeps its reply, no warning."""
        with captured_events() as events:
            reply = self.send(netstring(b"shout.x"))
            self.protocol.readConnectionLost()
            self.protocol.writeConnectionLost()
        self.assertEqual(reply, netstring(b"X"))
        self.assertEqual(events.names(), ["poem-transformed"])

    def test_idle_timeout(self) -> None:
        """A client that sends nothing is aborted when the idle timeout ends, not before."""
        self.clock.advance(4.999)  # just short of the 5-second idle timeout
        self.assertFalse(self.transport.disconnecting)
        with captured_events() as events:
            self.clock.advance(0.001)  # the idle timeout
        self.assertTrue(self.transport.disconnected)
        [timed_out] = events.named("request-timed-out")
        self.assertEqual((timed_out["peer"], timed_out["timeout"]), ("10.0.0.7:4321", 5))

    def test_timed_out_client_not_logged_as_leaving(self) -> None:
        """The reset of a client timed out is not logged again as the client leaving."""
        with captured_events() as events:
            self.clock.advance(5)  # the idle timeout: the connection is aborted
            self.protocol.connectionLost(Failure(ConnectionLost()))  # the reset
        self.assertEqual(events.names(), ["request-timed-out"])

    def test_builds_protocols_bound_to_itself(self) -> None:
        """The factory builds protocols bound to itself."""
        self.assertIs(self.protocol.factory, self.factory)
        self.protocol.connectionLost(Failure(ConnectionDone()))

    def test_dribbling_client_timed_out(self) -> None:
        """Sending a request a byte at a time does not put off the timeout."""
        for byte in b"30:shout.":
            self.send(bytes([byte]))
            self.clock.advance(0.5)  # half a second a byte: the timeout is not put off
        self.clock.advance(0.5)  # five seconds since the connection
        self.assertTrue(self.transport.disconnected)

    def test_answer_stops_timeout(self) -> None:
        """Once the reply is read and the connection closed, no timeout is pending."""
        self.send(netstring(b"shout.x"))
        reply_read(self.protocol)
        assert_no_delayed_calls(self, self.clock)

    def test_write_timeout_resets_client_not_reading(self) -> None:
        """A client that has not read its whole reply when the write timeout ends is reset."""
        self.send(netstring(b"shout.x"))
        self.clock.advance(9.999)  # just short of the 10-second write timeout
        self.assertFalse(self.transport.disconnected)
        with captured_events() as events:
            self.clock.advance(0.001)  # the write timeout
        self.assertTrue(self.transport.disconnected)  # aborted: a reset, not a clean close
        self.assertEqual(events.names(), ["reply-unread"])
        [unread] = events.named("reply-unread")
        self.assertEqual(
            (unread["peer"], unread["size"], unread["timeout"]), ("10.0.0.7:4321", 4, 10)
        )

    def test_write_timeout_counts_from_reply(self) -> None:
        """The write timeout starts when the reply is sent, and replaces the idle timeout."""
        self.clock.advance(4)  # within the 5-second idle timeout
        self.send(netstring(b"shout.x"))
        self.clock.advance(9.999)  # past the idle timeout, not yet the write timeout
        self.assertFalse(self.transport.disconnected)
        self.clock.advance(0.001)  # the write timeout
        self.assertTrue(self.transport.disconnected)

    def test_invalid_utf8_and_split_characters(self) -> None:
        """Invalid UTF-8, and characters split across packets, are transformed without a crash."""
        request = netstring(b"shout.bright " + "\u00c6ther".encode() + b" \xff")
        middle = request.index("\u00c6".encode()) + 1  # between the two bytes of the \u00c6
        self.send(request[:middle])
        reply = self.send(request[middle:])
        self.assertEqual(reply, netstring(b"BRIGHT " + "\u00c6THER".encode() + b" \xff"))


class TransformServerProperties(SynchronousTestCase):
    """The reply depends on the request, never on how it was split."""

    @given(st.binary(max_size=80), st.lists(st.integers(min_value=1, max_value=90), max_size=10))
    def test_any_split_same_reply(self, poem: bytes, cuts: list[int]) -> None:
        """Any request split at any points gets the same reply as when sent whole."""
        factory = TransformFactory(Clock())
        request = netstring(b"reverse-lines." + poem)
        whole_protocol, whole = connect_server(factory, StringTransport())
        whole_protocol.dataReceived(request)
        split_protocol, split_transport = connect_server(factory, StringTransport())
        for packet in split(request, cuts):
            split_protocol.dataReceived(packet)
        self.assertEqual(split_transport.value(), whole.value())
        self.assertEqual(whole.value(), netstring(TRANSFORMS["reverse-lines"](poem)))
        reply_read(whole_protocol)
        reply_read(split_protocol)
