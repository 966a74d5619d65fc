"""Measure this machine's TCP, to calibrate the kernel model of C{poetry.testing}.

Usage (Linux, root, C{ip} and C{nft}; about four minutes)::

    python -m benchmarks.kernel_lab [--runs N] [--only NAME ...] [--json FILE]

Real sockets (the standard library's, non-blocking or with timeouts; no Twisted),
on host loopback (127.0.0.1) and on two network namespaces joined by a veth pair
(L{poetry.testing.namespaces.NamespacePair}) whose faults are nftables drop rules
on arrival. Each measure is repeated (C{--runs}, default 5; 20 for closes; 3 for
SYN retries) and printed as median, range and count; C{--json} keeps every value.
Times come from C{time.monotonic()} and, for retransmissions, from polling the
sender's C{TCP_INFO} every 5 ms (a retransmission is a rise of
C{tcpi_total_retrans}), so they are good to about 10 ms.

The experiments (C{--only} takes these names):

 - C{buffers}: a receiver that never reads, a sender that writes 64 KiB chunks
   until C{EAGAIN}: what C{send()} accepted at first and in all (trying again
   every 0.1 s for 2.3 s, as a writer woken by the reactor would: the send
   buffer grows), then what the receiver holds (C{FIONREAD}) and what the sender
   still holds (C{SIOCOUTQ}: unacknowledged; C{SIOCOUTQNSD}: unsent); with the
   default options and with C{SO_SNDBUF}/C{SO_RCVBUF} of 64 KiB. C{autotune}: the
   receiver then reads slowly (4 KiB or 64 KiB every 10 ms for 3 s) while the
   sender tops up to C{EAGAIN}: how much is queued (written minus read) over time.
 - C{closes} (loopback, 20 runs each): the client sends a request line, the
   server does one of the closes below, the client reads to its end after a
   pause; each outcome is (bytes read, how it ended).
 - C{partition}: a connection, C{drop("both")}, the client writes 100 bytes at
   once, C{clear()} after D seconds: time from C{clear()} to the server's first
   byte, and the sender's retransmission times; fresh and warmed connections.
 - C{one_way}: C{drop("to_server")} or C{drop("to_client")} for 2 s while both
   ends write 1,000 bytes and half-close: when each end sees data and EOF.
 - C{syn}: a non-blocking connect into C{black_hole()}, lifted after L seconds:
   when the connect completes, and the SYN retransmission times; one connect
   never lifted, to its failure.
 - C{reset_in_partition}: an RST (SO_LINGER 0 close) or a FIN sent during a
   drop both ways, cleared after 1 or 2 s: what the peer sees, and when.
 - C{backlog}: C{listen(2)}, never C{accept()}, 10 connects: their states after
   2 s, then what each sees when the listener closes, then when it sends.

Independent experiments on the namespaces run at once, each in pairs of its
own (the kernel's timers are not slowed by a busy CPU; polling is); buffers and
closes run alone first.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import json
import select
import socket
import statistics
import struct
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from poetry.testing.namespaces import Direction, NamespacePair, Side, namespaces_unavailable

SIOCOUTQ = termios.TIOCOUTQ
SIOCINQ = termios.FIONREAD
SIOCOUTQNSD = 0x894B
POLL = 0.005
"""How often a watcher reads C{TCP_INFO}."""

STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2"}
STATES.update({6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN"})

SYSCTLS = [
    "ipv4/tcp_rmem",
    "ipv4/tcp_wmem",
    "core/rmem_default",
    "core/wmem_default",
    "core/rmem_max",
    "core/wmem_max",
    "ipv4/tcp_moderate_rcvbuf",
    "ipv4/tcp_adv_win_scale",
    "ipv4/tcp_syn_retries",
    "ipv4/tcp_syn_linear_timeouts",
    "ipv4/tcp_synack_retries",
    "ipv4/tcp_retries1",
    "ipv4/tcp_retries2",
    "ipv4/tcp_orphan_retries",
    "ipv4/tcp_rto_min_us",
    "ipv4/tcp_rto_max_ms",
    "ipv4/tcp_syncookies",
    "ipv4/tcp_abort_on_overflow",
    "ipv4/tcp_max_syn_backlog",
    "core/somaxconn",
    "ipv4/tcp_fin_timeout",
    "ipv4/tcp_congestion_control",
    "ipv4/tcp_autocorking",
    "ipv4/tcp_thin_linear_timeouts",
]


# --- results -------------------------------------------------------------------------------


@dataclass
class Measure:
    """One measured quantity: its values over the runs."""

    experiment: str
    name: str
    values: list[Any]
    unit: str = ""

    def summary(self) -> str:
        """Median (range, n) for numbers; counted outcomes otherwise."""
        numbers = [v for v in self.values if isinstance(v, int | float)]
        if numbers and len(numbers) == len(self.values):
            low, high = min(numbers), max(numbers)
            med = statistics.median(numbers)
            return f"{_fmt(med)} ({_fmt(low)}..{_fmt(high)}, n={len(numbers)}) {self.unit}"
        counted = Counter(str(v) for v in self.values)
        return "; ".join(f"{count}x {value}" for value, count in counted.most_common())


def _fmt(value: float) -> str:
    """A number, briefly."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3f}"


class Results:
    """Every measure, in the order taken; thread-safe."""

    def __init__(self) -> None:
        self.measures: list[Measure] = []
        self.notes: dict[str, Any] = {}
        self._lock = threading.Lock()

    def add(self, experiment: str, name: str, values: list[Any], unit: str = "") -> None:
        """Record one measure."""
        with self._lock:
            self.measures.append(Measure(experiment, name, values, unit))

    def note(self, key: str, value: Any) -> None:
        """Record a fact (a sysctl, a raw schedule)."""
        with self._lock:
            self.notes[key] = value


# --- sockets -------------------------------------------------------------------------------


@dataclass
class Place:
    """Where a connection's two ends live: host loopback, or a namespace pair."""

    name: str
    server_address: str
    pair: NamespacePair | None = None

    def side(self, side: Side) -> contextlib.AbstractContextManager[None]:
        """Make sockets on ``side`` (a no-op on loopback)."""
        if self.pair is None:
            return contextlib.nullcontext()
        return self.pair.inside(side)


def loopback() -> Place:
    """The host's own loopback."""
    return Place("loopback", "127.0.0.1")


@contextlib.contextmanager
def veth() -> Iterator[Place]:
    """A fresh namespace pair, destroyed after."""
    with NamespacePair() as pair:
        yield Place("veth", pair.server_address, pair)


def listener(place: Place, backlog: int = 16, rcvbuf: int | None = None) -> socket.socket:
    """A listening socket on the server side."""
    with place.side("server"):
        sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((place.server_address, 0))
    sock.listen(backlog)
    return sock


def client_socket(place: Place, sndbuf: int | None = None) -> socket.socket:
    """An unconnected socket on the client side."""
    with place.side("client"):
        sock = socket.socket()
    if sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    return sock


@contextlib.contextmanager
def connection(
    place: Place, sndbuf: int | None = None, rcvbuf: int | None = None
) -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected (server end, client end), both closed after."""
    with listener(place, rcvbuf=rcvbuf) as listening:
        client = client_socket(place, sndbuf)
        client.settimeout(10)
        client.connect(listening.getsockname())
        server, _ = listening.accept()
    with server, client:
        yield server, client


def ioctl(sock: socket.socket, request: int) -> int:
    """An integer socket ioctl."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), request, b"\0" * 4))[0]


def tcp_info(sock: socket.socket) -> dict[str, int]:
    """The fields of C{TCP_INFO} used here (times in microseconds or milliseconds as the kernel)."""
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    head = struct.unpack_from("8B", raw)
    words = struct.unpack_from("24I", raw, 8)
    return {
        "state": head[0],
        "retransmits": head[2],
        "backoff": head[4],
        "rto_us": words[0],
        "unacked": words[4],
        "rtt_us": words[15],
        "rttvar_us": words[16],
        "cwnd": words[18],
        "total_retrans": words[23],
    }


def linger_zero(sock: socket.socket) -> None:
    """Set SO_LINGER on, 0 s: close() then resets."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def orderly_close(sock: socket.socket) -> None:
    """Twisted's C{loseConnection} at the end: shutdown(SHUT_RDWR), then close()."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def fill(sock: socket.socket, limit: int | None = None) -> int:
    """Write 64 KiB chunks without blocking until EAGAIN (or ``limit`` bytes); return the count."""
    sock.setblocking(False)
    chunk = b"x" * 65536
    total = 0
    try:
        while limit is None or total < limit:
            want = chunk if limit is None else chunk[: limit - total]
            total += sock.send(want)
    except BlockingIOError:
        pass
    return total


def read_end(sock: socket.socket, timeout: float = 3.0) -> tuple[int, str]:
    """Read to the end: (bytes read, "EOF" | an errno name | "open" if nothing by ``timeout``)."""
    sock.settimeout(timeout)
    total = 0
    try:
        while data := sock.recv(1 << 20):
            total += len(data)
    except TimeoutError:
        return total, "open"
    except OSError as error:
        return total, errno.errorcode.get(error.errno or 0, str(error))
    return total, "EOF"


def outcome(action: Callable[[], object]) -> str:
    """What ``action`` gave: its value, or the errno name it raised."""
    try:
        return repr(action())
    except BlockingIOError:
        return "EAGAIN"
    except OSError as error:
        return errno.errorcode.get(error.errno or 0, str(error))


def elapsed(since: float) -> float:
    """Seconds since ``since``, to the millisecond."""
    return round(time.monotonic() - since, 3)


class Watcher:
    """Poll a socket's C{TCP_INFO}; keep when C{total_retrans} rose, and the RTO then."""

    def __init__(self, sock: socket.socket, start: float) -> None:
        self.sock = sock
        self.start = start
        self.retransmissions: list[float] = []
        self.rtos: list[float] = []
        self._last: int | None = None

    def poll(self) -> dict[str, int] | None:
        """Read C{TCP_INFO} once; None if the socket is closed."""
        try:
            info = tcp_info(self.sock)
        except OSError:
            return None
        if self._last is not None and info["total_retrans"] > self._last:
            self.retransmissions.append(elapsed(self.start))
            self.rtos.append(info["rto_us"] / 1e6)
        self._last = info["total_retrans"]
        return info

    def wait(
        self, until: float, readable: socket.socket | None = None, also: tuple[Watcher, ...] = ()
    ) -> float | None:
        """Poll (``also`` too) until ``until`` or until ``readable`` is readable; when, or None."""
        while (now := time.monotonic()) < until:
            for watcher in (self, *also):
                watcher.poll()
            if readable is not None:
                ready, _, _ = select.select([readable], [], [], min(POLL, until - now))
                if ready:
                    return elapsed(self.start)
            else:
                time.sleep(min(POLL, until - now))
        return None


def concurrently(tasks: dict[str, Callable[[], None]]) -> None:
    """Run independent tasks at once, each in a thread; re-raise the first failure."""
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(task) for task in tasks.values()]
        for future in futures:
            future.result()


# --- 1. buffers ----------------------------------------------------------------------------


def buffers(results: Results, runs: int) -> None:
    """A receiver that never reads: accepted, receive queue, send queue; default and set buffers."""
    with veth() as pair_place:
        for place in (loopback(), pair_place):
            for label, size in (("default options", None), ("SO_SNDBUF=SO_RCVBUF=65536", 65536)):
                rows: dict[str, list[Any]] = {}
                for _ in range(runs):
                    for key, value in _fill_once(place, size).items():
                        rows.setdefault(key, []).append(value)
                for key, values in rows.items():
                    results.add("buffers", f"{place.name}, {label}: {key}", values, "B")


def _fill_once(place: Place, size: int | None) -> dict[str, int]:
    """One fill of a never-reading receiver."""
    with connection(place, sndbuf=size, rcvbuf=size) as (receiver, sender):
        accepted = fill(sender)
        time.sleep(0.3)
        later = fill(sender)
        for _ in range(20):
            time.sleep(0.1)
            later += fill(sender)
        row = {
            "send() accepted until the first EAGAIN": accepted,
            "accepted in all, retried every 0.1 s for 2.3 s": accepted + later,
            "sender SIOCOUTQ (unacked+unsent)": ioctl(sender, SIOCOUTQ),
            "sender SIOCOUTQNSD (unsent)": ioctl(sender, SIOCOUTQNSD),
            "receiver FIONREAD": ioctl(receiver, SIOCINQ),
            "SO_SNDBUF (getsockopt)": sender.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
            "SO_RCVBUF (getsockopt)": receiver.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        }
        return row


def autotune(results: Results, runs: int) -> None:
    """A receiver reading slowly: how the amount queued (written minus read) grows."""
    with veth() as pair_place:
        for place in (loopback(), pair_place):
            for rate in (4096, 65536):
                rows: dict[str, list[Any]] = {}
                for _ in range(runs):
                    for key, value in _slow_read(place, rate).items():
                        rows.setdefault(key, []).append(value)
                for key, values in rows.items():
                    name = f"{place.name}, reader {rate} B per 10 ms: {key}"
                    results.add("autotune", name, values, "B")


def _slow_read(place: Place, rate: int) -> dict[str, int]:
    """Top up to EAGAIN and read ``rate`` bytes every 10 ms for 3 s; the queue at set times."""
    marks = [0.0, 0.5, 1.0, 2.0, 3.0]
    row: dict[str, int] = {}
    with connection(place) as (receiver, sender):
        receiver.setblocking(False)
        written = read = 0
        start = time.monotonic()
        while marks:
            written += fill(sender)
            if elapsed(start) >= marks[0]:
                row[f"queued at {marks.pop(0):.1f} s"] = written - read
            with contextlib.suppress(BlockingIOError):
                read += len(receiver.recv(rate))
            time.sleep(0.01)
        row["SO_RCVBUF at 3 s"] = receiver.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        row["SO_SNDBUF at 3 s"] = sender.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    return row


# --- 2. closes -----------------------------------------------------------------------------

REQUEST = b"poem please\n"
REPLY = b"x" * 20


def _close_a(server: socket.socket) -> None:
    """Write 20 bytes, shutdown(SHUT_RDWR) and close(), the request unread."""
    server.sendall(REPLY)
    orderly_close(server)


def _close_b(server: socket.socket) -> None:
    """SO_LINGER 0, nothing unread; write 20 bytes, shutdown(SHUT_RDWR) and close()."""
    server.recv(100)
    linger_zero(server)
    server.sendall(REPLY)
    orderly_close(server)


def _close_b_abort(server: socket.socket) -> None:
    """SO_LINGER 0, nothing unread; write 20 bytes and close() (Twisted's abortConnection)."""
    server.recv(100)
    linger_zero(server)
    server.sendall(REPLY)
    server.close()


def _close_c(server: socket.socket) -> None:
    """Write 20 bytes and close() without shutdown, the request unread."""
    server.sendall(REPLY)
    server.close()


def _close_e(server: socket.socket) -> None:
    """Nothing unread; write 20 bytes, shutdown; 50 ms later SO_LINGER 0 and close() (an RST)."""
    server.recv(100)
    server.sendall(REPLY)
    server.shutdown(socket.SHUT_RDWR)
    time.sleep(0.05)
    linger_zero(server)
    server.close()


CLOSES: dict[str, Callable[[socket.socket], None]] = {
    "(a) write 20, shutdown+close, request unread": _close_a,
    "(b) SO_LINGER 0, nothing unread, write 20, shutdown+close": _close_b,
    "(b') SO_LINGER 0, nothing unread, write 20, close (abort)": _close_b_abort,
    "(c) write 20, close without shutdown, request unread": _close_c,
    "(e) write 20, shutdown, FIN received; then an RST (linger 0 close) 50 ms later": _close_e,
}


def closes(results: Results, runs: int) -> None:
    """Each close on loopback: what the client reads, after a 0.15 s pause, and how it ends."""
    place = loopback()
    for name, close in CLOSES.items():
        outcomes = []
        for _ in range(runs):
            with connection(place) as (server, client):
                client.sendall(REQUEST)
                close(server)
                time.sleep(0.15)
                outcomes.append(read_end(client))
        results.add("closes", name, outcomes)
    for unread in (True, False):
        _close_d(results, place, runs, unread)
    _close_f(results, place, runs)


def _close_d(results: Results, place: Place, runs: int, unread: bool) -> None:
    """(d) 2,000,000 bytes written as far as accepted, then shutdown+close; read after 0.3 s."""
    accepted, received, ends = [], [], []
    for _ in range(runs):
        with connection(place) as (server, client):
            client.sendall(REQUEST)
            if not unread:
                server.recv(100)
            accepted.append(fill(server, 2_000_000))
            orderly_close(server)
            time.sleep(0.3)
            count, end = read_end(client)
            received.append(count)
            ends.append(end)
    what = "request unread" if unread else "request read"
    results.add("closes", f"(d) 2 MB, {what}: send() accepted", accepted, "B")
    results.add("closes", f"(d) 2 MB, {what}: client received", received, "B")
    results.add("closes", f"(d) 2 MB, {what}: how it ended", ends)


def _close_f(results: Results, place: Place, runs: int) -> None:
    """(f) After the server's orderly close (FIN, then its socket gone), the client writes."""
    outcomes = []
    for _ in range(runs):
        with connection(place) as (server, client):
            client.sendall(REQUEST)
            server.recv(100)
            orderly_close(server)
            time.sleep(0.05)
            client.setblocking(False)
            steps = [
                "recv=" + outcome(lambda: client.recv(100)),
                "send=" + outcome(lambda: client.send(b"more")),
            ]
            time.sleep(0.05)
            steps.append("send=" + outcome(lambda: client.send(b"more")))
            steps.append("recv=" + outcome(lambda: client.recv(100)))
            steps.append("send=" + outcome(lambda: client.send(b"more")))
            outcomes.append(", ".join(steps))
    results.add(
        "closes", "(f) after the peer's FIN and close, the client: recv, send, 50 ms, ...", outcomes
    )


# --- 3. partition --------------------------------------------------------------------------

DROPS = [0.5, 1.0, 2.0, 3.0, 5.0, 10.0]


def partition(results: Results, runs: int) -> None:
    """Data written at a drop's start: when it arrives after clear(), and the retransmissions."""
    tasks: dict[str, Callable[[], None]] = {
        f"D={d}": partial(_partition_series, results, runs, d, warm=False) for d in DROPS
    }
    tasks["warm"] = lambda: _partition_series(results, runs, 2.0, warm=True)
    tasks["long"] = lambda: _partition_series(results, 1, 27.0, warm=False)
    concurrently(tasks)


def _partition_series(results: Results, runs: int, drop: float, warm: bool) -> None:
    """``runs`` partitions of ``drop`` seconds, one pair."""
    rows: dict[str, list[Any]] = {}
    with veth() as place:
        for _ in range(runs):
            for key, value in _partition_once(place, drop, warm).items():
                rows.setdefault(key, []).append(value)
    kind = "warmed" if warm else "fresh"
    for key, values in rows.items():
        unit = "" if key == "retransmissions (s after the write)" else "s"
        results.add("partition", f"drop both {drop} s, {kind}: {key}", values, unit)


def _warm(server: socket.socket, client: socket.socket) -> None:
    """Carry traffic: 100 request-reply exchanges of 1000 bytes, then 1 MB to the server."""
    for _ in range(100):
        client.sendall(b"q" * 1000)
        got = 0
        while got < 1000:
            got += len(server.recv(1000 - got))
        server.sendall(b"r" * 1000)
        got = 0
        while got < 1000:
            got += len(client.recv(1000 - got))
    client.sendall(b"b" * 1_000_000)
    got = 0
    while got < 1_000_000:
        got += len(server.recv(1 << 20))


def _partition_once(place: Place, drop: float, warm: bool) -> dict[str, Any]:
    """One partition; times relative to the write (made right after the drop starts)."""
    assert place.pair is not None
    with connection(place) as (server, client):
        if warm:
            _warm(server, client)
        row: dict[str, Any] = {
            "client RTO before (tcpi_rto)": tcp_info(client)["rto_us"] / 1e6,
            "server RTO before (tcpi_rto)": tcp_info(server)["rto_us"] / 1e6,
        }
        place.pair.drop("both")
        start = time.monotonic()
        client.send(b"d" * 100)
        watcher = Watcher(client, start)
        watcher.wait(start + drop)
        place.pair.clear()
        cleared = elapsed(start)
        first = watcher.wait(start + drop + 60, readable=server)
        row["first byte after clear()"] = None if first is None else round(first - cleared, 3)
        row["retransmissions (s after the write)"] = watcher.retransmissions
        return row


# --- 4. one-way drops ----------------------------------------------------------------------


def one_way(results: Results, runs: int) -> None:
    """A drop one way for 2 s while both ends write 1,000 bytes and half-close."""
    concurrently(
        {d: partial(_one_way_series, results, runs, d) for d in ("to_server", "to_client")}
    )


def _one_way_series(results: Results, runs: int, direction: Direction) -> None:
    """``runs`` one-way drops, one pair."""
    rows: dict[str, list[Any]] = {}
    with veth() as place:
        for _ in range(runs):
            for key, value in _one_way_once(place, direction).items():
                rows.setdefault(key, []).append(value)
    for key, values in rows.items():
        results.add("one_way", f"drop {direction} 2 s: {key}", values, "s")


def _one_way_once(place: Place, direction: Direction, drop: float = 2.0) -> dict[str, Any]:
    """When each end got the other's 1,000 bytes and EOF (s after the drop began)."""
    assert place.pair is not None
    with connection(place) as (server, client):
        place.pair.drop(direction)
        start = time.monotonic()
        for sock in (client, server):
            sock.sendall(b"z" * 1000)
        time.sleep(0.1)
        for sock in (client, server):
            sock.shutdown(socket.SHUT_WR)
        seen: dict[str, Any] = {}
        got = {"client": 0, "server": 0}
        ends = {"client": client, "server": server}
        watchers = {"client": Watcher(client, start), "server": Watcher(server, start)}
        cleared = False
        while len(seen) < 4 and elapsed(start) < 30:
            for watcher in watchers.values():
                watcher.poll()
            if not cleared and elapsed(start) >= drop:
                place.pair.clear()
                cleared = True
            ready, _, _ = select.select(list(ends.values()), [], [], POLL)
            for sock in ready:
                side = "client" if sock is client else "server"
                data = sock.recv(65536)
                if data and got[side] == 0:
                    seen[f"{side} got data at"] = elapsed(start)
                got[side] += len(data)
                if not data:
                    seen[f"{side} got EOF at"] = elapsed(start)
                    del ends[side]
        for side, watcher in watchers.items():
            seen[f"{side}'s retransmissions at"] = watcher.retransmissions
        return seen


# --- 5. SYN retries ------------------------------------------------------------------------

LIFTS = [0.5, 1.5, 2.5, 4.5, 6.5, 8.5, 12.5]


def syn(results: Results, runs: int) -> None:
    """Connects into a black hole lifted after L s; one never lifted, to its failure."""
    tasks: dict[str, Callable[[], None]] = {
        f"L={lift}": partial(_syn_series, results, runs, lift) for lift in LIFTS
    }
    tasks["never"] = lambda: _syn_series(results, 1, None)
    concurrently(tasks)


def _syn_series(results: Results, runs: int, lift: float | None) -> None:
    """``runs`` black-holed connects, one pair."""
    rows: dict[str, list[Any]] = {}
    with veth() as place:
        for _ in range(runs):
            for key, value in _syn_once(place, lift).items():
                rows.setdefault(key, []).append(value)
    name = "never lifted" if lift is None else f"lifted at {lift} s"
    for key, values in rows.items():
        results.add("syn", f"black hole {name}: {key}", values, "s" if "at" in key else "")


def _syn_once(place: Place, lift: float | None) -> dict[str, Any]:
    """One non-blocking connect into a black hole; when it ended and how."""
    assert place.pair is not None
    with listener(place) as listening:
        port = listening.getsockname()[1]
        place.pair.black_hole(port)
        client = client_socket(place)
        with client:
            client.setblocking(False)
            start = time.monotonic()
            client.connect_ex((place.server_address, port))
            watcher = Watcher(client, start)
            lifted = False
            while elapsed(start) < 170:
                watcher.poll()
                if lift is not None and not lifted and elapsed(start) >= lift:
                    place.pair.clear()
                    lifted = True
                _, ready, _ = select.select([], [client], [], POLL)
                if ready:
                    break
            error = client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            return {
                "connect ended at": elapsed(start),
                "result": errno.errorcode.get(error, "connected") if error else "connected",
                "SYN retransmissions (s after connect)": watcher.retransmissions,
            }


# --- 6. reset and FIN in a partition -------------------------------------------------------


def reset_in_partition(results: Results, runs: int) -> None:
    """An RST or a FIN sent while a drop both ways loses it."""
    concurrently(
        {
            "idle": lambda: _rip_series(results, runs, "rst, client idle"),
            "busy": lambda: _rip_series(results, runs, "rst, client wrote during the drop"),
            "fin": lambda: _rip_series(results, runs, "20 bytes + FIN (orderly close)"),
            "half": lambda: _rip_series(results, runs, "20 bytes + FIN (shutdown(SHUT_WR) only)"),
        }
    )


def _rip_series(results: Results, runs: int, kind: str) -> None:
    """``runs`` of one kind, one pair."""
    rows: dict[str, list[Any]] = {}
    with veth() as place:
        for _ in range(runs):
            for key, value in _rip_once(place, kind).items():
                rows.setdefault(key, []).append(value)
    for key, values in rows.items():
        unit = "s" if key.endswith("after clear()") else ""
        results.add("reset_in_partition", f"{kind} during a drop: {key}", values, unit)


def _rip_once(place: Place, kind: str) -> dict[str, Any]:
    """One: the server closes during the drop, which is cleared after 1 s (FIN: 2 s)."""
    assert place.pair is not None
    drop = 2.0 if kind.startswith("20") else 1.0
    with connection(place) as (server, client):
        place.pair.drop("both")
        start = time.monotonic()
        if kind.startswith("rst"):
            if "wrote" in kind:
                client.send(b"w" * 100)
                time.sleep(0.1)
            linger_zero(server)
            server.close()
        else:
            server.sendall(REPLY)
            if "SHUT_WR" in kind:
                server.shutdown(socket.SHUT_WR)
            else:
                orderly_close(server)
        watcher = Watcher(client, start)
        # A closed server's retransmissions cannot be watched; a half-closed one's can.
        sender = (Watcher(server, start),) if "SHUT_WR" in kind else ()
        watcher.wait(start + drop, also=sender)
        place.pair.clear()
        cleared = elapsed(start)
        row: dict[str, Any] = {}
        if kind == "rst, client idle":
            noticed = watcher.wait(start + drop + 2.0, readable=client)
            row["noticed within 2 s of clear()"] = "no" if noticed is None else "yes"
            sent = time.monotonic()
            client.send(b"late")
            noticed = watcher.wait(sent + 30, readable=client)
            row["then it sent; its error after that send (s)"] = (
                None if noticed is None else round(noticed - (sent - start), 3)
            )
        else:
            noticed = watcher.wait(start + drop + 30, readable=client, also=sender)
            row["first event after clear()"] = (
                None if noticed is None else round(noticed - cleared, 3)
            )
            for each in sender:
                row["server's retransmissions (s after its write)"] = each.retransmissions
        row["what it read"] = read_end(client, timeout=1.0)
        return row


# --- 7. backlog ----------------------------------------------------------------------------


def backlog(results: Results, runs: int) -> None:
    """listen(2), no accept(), 10 connects; then the listener closes; then each client sends."""
    with veth() as pair_place:
        for place in (loopback(), pair_place):
            rows: dict[str, list[Any]] = {}
            for _ in range(runs):
                for key, value in _backlog_once(place).items():
                    rows.setdefault(key, []).append(value)
            for key, values in rows.items():
                results.add("backlog", f"{place.name}: {key}", values)


def _backlog_once(place: Place) -> dict[str, Any]:
    """One burst of 10 connects against listen(2)."""
    listening = listener(place, backlog=2)
    address = listening.getsockname()
    clients = [client_socket(place) for _ in range(10)]
    try:
        for sock in clients:
            sock.setblocking(False)
            sock.connect_ex(address)
        start = time.monotonic()
        watchers = [Watcher(sock, start) for sock in clients]
        while elapsed(start) < 2.5:  # between the SYN retransmissions at 2 and 3 s
            for watcher in watchers:
                watcher.poll()
            time.sleep(POLL)
        states = Counter(STATES.get(tcp_info(sock)["state"], "?") for sock in clients)
        queue = tcp_info(listening)["unacked"]  # a listener's tcpi_unacked: its accept queue
        row: dict[str, Any] = {
            "client states after 2.5 s": dict(sorted(states.items())),
            "accept queue length after 2.5 s": queue,
            "SYN retransmissions per client in 2.5 s": sorted(
                len(w.retransmissions) for w in watchers
            ),
        }
        before = {sock: STATES.get(tcp_info(sock)["state"], "?") for sock in clients}
        listening.close()
        closed = time.monotonic()
        row["after the listener closed: (state before, recv, s after the close)"] = _events(
            clients, closed, before
        )
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.send(b"hello")
        sent = time.monotonic()
        now = {sock: STATES.get(tcp_info(sock)["state"], "?") for sock in clients}
        row["then each sent 5 bytes: (state, recv, s after the send)"] = _events(clients, sent, now)
        return row
    finally:
        listening.close()
        for sock in clients:
            sock.close()


def _events(
    clients: list[socket.socket], since: float, states: dict[socket.socket, str], wait: float = 3.0
) -> dict[str, int]:
    """Wait up to ``wait`` s for each client to become readable; count (state, recv, when)."""
    seen: dict[socket.socket, str] = {}
    while len(seen) < len(clients) and time.monotonic() - since < wait:
        waiting = [sock for sock in clients if sock not in seen]
        ready, _, _ = select.select(waiting, [], [], POLL)
        for sock in ready:
            when = time.monotonic() - since
            got = outcome(partial(sock.recv, 100))
            seen[sock] = f"{states[sock]}: {got} at {when:.1f} s"
    outcomes = [seen.get(sock, f"{states[sock]}: nothing in {wait} s") for sock in clients]
    return dict(sorted(Counter(outcomes).items()))


# --- main ----------------------------------------------------------------------------------

EXPERIMENTS: dict[str, tuple[Callable[[Results, int], None], int]] = {
    "buffers": (buffers, 5),
    "autotune": (autotune, 3),
    "closes": (closes, 20),
    "partition": (partition, 5),
    "one_way": (one_way, 5),
    "syn": (syn, 3),
    "reset_in_partition": (reset_in_partition, 5),
    "backlog": (backlog, 5),
}
"""Each experiment and its default number of runs."""

ALONE = ("buffers", "autotune", "closes")
"""Experiments run one after another first (buffer occupancy would be disturbed by others)."""


def sysctls(results: Results, place: Place) -> None:
    """Note the kernel settings, in the host and in a fresh namespace (they may differ)."""
    results.note("kernel", Path("/proc/sys/kernel/osrelease").read_text().strip())
    for name in SYSCTLS:
        path = Path("/proc/sys/net") / name
        results.note(f"host {name}", path.read_text().strip() if path.exists() else "absent")
    assert place.pair is not None
    script = "; ".join(f"cat /proc/sys/net/{name} 2>/dev/null || echo absent" for name in SYSCTLS)
    for name, value in zip(
        SYSCTLS, place.pair.run("server", "sh", "-c", script).splitlines(), strict=True
    ):
        results.note(f"namespace {name}", value.strip())


def main(argv: list[str] | None = None) -> None:
    """Run the experiments; print every measure; optionally write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="runs of each measure (default: per experiment)")
    parser.add_argument("--only", nargs="*", choices=list(EXPERIMENTS), help="these experiments")
    parser.add_argument("--json", type=Path, help="write every value to this file")
    args = parser.parse_args(argv)
    reason = namespaces_unavailable()
    if reason is not None:
        parser.exit(2, f"kernel_lab: {reason}\n")
    chosen = args.only or list(EXPERIMENTS)
    results = Results()
    with veth() as place:
        sysctls(results, place)
    started = time.monotonic()
    for name in [n for n in chosen if n in ALONE]:
        experiment, runs = EXPERIMENTS[name]
        experiment(results, args.runs or runs)
    together: dict[str, Callable[[], None]] = {
        name: partial(EXPERIMENTS[name][0], results, args.runs or EXPERIMENTS[name][1])
        for name in chosen
        if name not in ALONE
    }
    if together:
        concurrently(together)
    for key, value in results.notes.items():
        print(f"{key}: {value}")
    experiment_now = None
    for measure in sorted(results.measures, key=lambda m: list(EXPERIMENTS).index(m.experiment)):
        if measure.experiment != experiment_now:
            experiment_now = measure.experiment
            print(f"\n== {experiment_now}")
        print(f"{measure.name}: {measure.summary()}")
    print(f"\n{time.monotonic() - started:.0f} s")
    if args.json:
        data = {"notes": results.notes, "measures": [m.__dict__ for m in results.measures]}
        args.json.write_text(json.dumps(data, indent=1, default=str))


if __name__ == "__main__":
    main()
