"""A deterministic in-memory TCP network for testing Twisted code, txpoetry's and yours.

L{MemoryPoetryNetwork} owns a L{NetworkReactor}, a C{MemoryReactorClock}: hand
it to the code under test. Real services (txpoetry's, or any server factory)
listen on it with C{listenTCP} or L{MemoryPoetryNetwork.serve}; real client
code connects with C{connectTCP} or a C{HostnameEndpoint} on the same reactor.
Nothing moves until the test says so.

Moving the network
==================

 - C{network.flush()} completes, refuses or holds pending connection
   attempts, runs what a real reactor would run on its next turn (calls due
   now, such as an abort's reset), and moves bytes until nothing moves. It
   never moves the clock.
 - C{network.advance(seconds)} is I{the} way to let time pass: it fires each
   timer, and delivers each delayed byte, at its own time, flushing between.
   C{network.reactor.advance} moves the clock alone, without moving bytes
   between timers: it is there for code that needs a bare clock.

Connections behave as TCP under Twisted does
============================================

 - C{loseConnection} sends what is queued, then a clean close (FIN);
   C{abortConnection} drops what is queued and resets the connection on the
   reactor's next turn (the peer sees C{ConnectionLost});
 - C{loseWriteConnection} is a half-close, heard by a protocol that provides
   C{IHalfCloseableProtocol} and taken as the end by any other;
 - bytes written to a peer whose socket is closed reset the writer, and a
   socket closed with bytes it never read sends a reset (as on Linux);
 - a factory that declines a connection accepts it and closes it at once;
 - C{SO_LINGER} 0 (a port's C{socket}, a transport's C{getHandle()}) makes a
   close a reset, and accepted connections inherit the port's setting;
 - a port accepts in batches of C{numberAccepts}, and C{stopReading} takes
   effect after the batch; meanwhile attempts wait as in a listen backlog;
 - a transport buffers up to C{network.buffer_size} bytes (64 KiB, like
   Twisted's) for a peer that does not read (whose transport was paused with
   C{pauseProducing}) before it pauses its streaming producer, and resumes it
   once everything has drained; a pull producer is asked for more each time
   the buffer drains;
 - C{network.exit_process(port, ...)} is a server process exiting or dying:
   an abort still waiting for the reactor's next turn never happens, and the
   kernel closes what it had open (a FIN, or a reset where C{SO_LINGER} is 0).

Faults
======

 - C{connection.reset()}: reset a live connection now (unsent bytes dropped,
   the peer sees a reset); C{connection.hold()} / C{release()}: hold and
   release its bytes and closes. C{network.connections} lists the open ones.
 - C{network.refuse(host, port=None)}: refuse, even where a service listens;
   C{network.black_hole(host, port=None)}: attempts hang until the client
   gives up (the connector's timeout, on the clock, fails them with
   C{TimeoutError}; a cancelled C{Deferred} stops them);
   C{network.restore(host, port=None)} undoes both.
 - C{network.partition(a, b)} / C{network.heal(a, b)}: bytes between two
   hosts wait (nothing is lost, as under TCP), new attempts hang.
 - C{network.set_latency(a, b, seconds)}: bytes arrive that long after they
   are written, on the network's clock.
 - C{network.fragment(sizes=[...])} or C{network.fragment(seed=...)}: each
   write is delivered in segments of the sizes given (the last repeated), or
   cut at random points from a seeded generator (same seed, same run).

Names
=====

C{network.hosts.add(name, *addresses)} is the one hosts table, read by
C{connectTCP} and by the resolver of C{HostnameEndpoint}; C{localhost} is
C{127.0.0.1} and C{::1}; an unknown name fails with C{DNSLookupError}; IPv6
spellings are normalised; C{0.0.0.0} (or C{""}) is every IPv4 address and
C{::} every address, as on Linux by default. A client connects from
C{127.0.0.1} (C{::1} for an IPv6 destination) unless C{connectTCP} is given a
C{bindAddress}.

Records
=======

C{network.attempts} lists every connection attempt (L{ConnectionAttempt}: when,
from where, to where, and its outcome: connected, refused, timed out,
cancelled, no such host, or still pending) and the connection it made.

Where the in-memory network differs from real TCP
=================================================

Each difference below is pinned by a contract test (C{tests/support/contracts.py},
run in memory by C{tests/unit/test_contract_memory.py} and over loopback TCP by
C{tests/integration/test_contract_tcp.py}) or, where only real processes show
it, by C{tests/integration/test_integrity.py}:

 - Bytes arrive in the segments the network cuts them into (as written,
   unless C{fragment} says otherwise); real TCP splits and joins them as it
   likes (C{test_large_poem}, C{test_client_bytes_ignored}).
 - A connect completes only when flushed, so "cancel while connecting" is
   exact here and a race there (C{test_cancel_while_connecting}).
 - A refusal is the network's answer, not the kernel's (C{test_refused}).
 - An attempt to a paused port is not connected until the port accepts it;
   a real kernel completes the handshake into its backlog first.
 - A process cannot really exit in either tier's harness: the memory network
   models the kernel's close (C{exit_process}); the TCP harness closes the
   descriptors itself. Real exits are tested on real processes
   (C{test_shutdown_past_grace_is_a_reset}, C{test_process_death_mid_poem_is_a_reset};
   C{test_sigterm_past_grace_resets_cut_clients}).
 - The file-descriptor limit, the listen backlog and Twisted's EMFILE
   recovery exist only on real processes (C{test_fd_limit_clients_wait_or_reset},
   C{test_emfile_is_a_reset}, C{test_burst_of_2000_connects_all_served}).
 - Memory only, because loopback TCP cannot express them by itself (the
   kernel buffers a whole poem and answers at once): holding and releasing
   bytes, latency, partitions and black-holed addresses. Their behaviour is
   pinned in memory by C{tests/unit/test_faults.py}.
"""

from poetry.testing.names import HostsResolver, HostsTable
from poetry.testing.network import (
    MAX_ROUNDS,
    ConnectionAttempt,
    MemoryPoetryNetwork,
    MemoryPort,
    NetworkDidNotSettle,
    NetworkReactor,
)
from poetry.testing.transport import (
    BUFFER_SIZE,
    ORDINARY_LINGER,
    RESET,
    RESET_LINGER,
    MemoryConnection,
    MemoryTransport,
    SocketOptions,
)

__all__ = [
    "BUFFER_SIZE",
    "MAX_ROUNDS",
    "ORDINARY_LINGER",
    "RESET",
    "RESET_LINGER",
    "ConnectionAttempt",
    "HostsResolver",
    "HostsTable",
    "MemoryConnection",
    "MemoryPoetryNetwork",
    "MemoryPort",
    "MemoryTransport",
    "NetworkDidNotSettle",
    "NetworkReactor",
    "SocketOptions",
]
