"""Properties of stream framing, checked by hypothesis over many poems and splits."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import PoetryClientProtocol
from poetry.core.errors import PartialPoemError
from poetry.core.slow_server import SlowPoetryFactory
from tests.support import TimedTransport, connect_server
from tests.support.properties import split

poems = st.binary(min_size=1, max_size=2000)  # a clean close with no byte is no poem
partials = st.binary(max_size=2000)
cut_points = st.lists(st.integers(min_value=0, max_value=2000), max_size=30)
delays = st.integers(min_value=1, max_value=640).map(lambda n: n / 64)  # exact in binary


def deliver(packets: list[bytes], reason: Failure) -> PoetryClientProtocol:
    """Feed ``packets`` to a fresh client protocol, then lose the connection with ``reason``."""
    protocol = PoetryClientProtocol()
    protocol.makeConnection(StringTransport())
    for packet in packets:
        protocol.dataReceived(packet)
    protocol.connectionLost(reason)
    return protocol


class ClientFramingProperties(SynchronousTestCase):
    """Whatever the packets, the client's result depends only on the bytes and the close."""

    @given(poems, cut_points)
    def test_clean_close_gives_exact_poem(self, poem: bytes, cuts: list[int]) -> None:
        """Any poem in any split, closed cleanly, is returned exactly."""
        protocol = deliver(split(poem, cuts), Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(protocol.poem), poem)

    @given(partials, cut_points)
    def test_unclean_loss_keeps_exact_partial(self, poem: bytes, cuts: list[int]) -> None:
        """Any bytes in any split, then a reset, fail with exactly those bytes as the partial."""
        protocol = deliver(split(poem, cuts), Failure(ConnectionLost()))
        failure = self.failureResultOf(protocol.poem, PartialPoemError)
        self.assertEqual(failure.value.partial, poem)


class SlowServerTimingProperties(SynchronousTestCase):
    """Whatever the pacing, the slow server sends the exact poem on an exact schedule."""

    @given(st.binary(min_size=1, max_size=600), st.integers(min_value=1, max_value=64), delays)
    def test_chunks_at_exact_times(self, poem: bytes, chunk_bytes: int, delay: float) -> None:
        """The poem leaves in ceil(len/N) chunks of N bytes, the k-th at k times the delay."""
        clock = Clock()
        factory = SlowPoetryFactory(poem, chunk_bytes, delay, clock)
        transport = TimedTransport(clock)
        connect_server(factory, transport)
        chunks = math.ceil(len(poem) / chunk_bytes)
        clock.pump([delay] * (chunks - 1))  # one step per tick after the first chunk
        self.assertEqual([when for when, _ in transport.writes], [k * delay for k in range(chunks)])
        self.assertEqual(
            [data for _, data in transport.writes],
            [poem[k * chunk_bytes : (k + 1) * chunk_bytes] for k in range(chunks)],
        )
        self.assertFalse(transport.connected)
        self.assertEqual(clock.getDelayedCalls(), [])
