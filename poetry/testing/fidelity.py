"""How connections end under each fault, in each phase: the simulated network against the kernel.

Each L{Cell} is a scenario (a fault, in one phase of a connection) and what a
client sees in it on Linux: how its connection ends, with how many bytes,
and when. L{KernelChecks} is a kit with one check per cell: the same test
names run on the simulated network (L{poetry.testing.kits.in_memory}), on
loopback TCP (C{over_tcp}) and across two network namespaces with nftables
rules for the faults (C{in_namespaces}), each checking the outcome the kernel
gives. A harness that cannot express a cell's fault skips it, saying why.
L{render} makes the page C{docs/fidelity.md} from the cells; C{python -m
poetry.testing.fidelity} prints it.

The phases: C{connecting} (before the handshake completes), C{before the
first byte} (connected, the server has sent nothing), C{mid-poem} (some bytes
sent, more to come), C{after the FIN} (the server has sent all and its FIN),
C{closing} (the server closes with something still pending).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from inspect import isawaitable
from typing import Any

from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IHalfCloseableProtocol, IListeningPort
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest
from zope.interface import implementer

from poetry.testing.harnesses import Harness, kernel_settings

PHASES = ("connecting", "before the first byte", "mid-poem", "after the FIN", "closing")
"""The phases of a connection, in order."""

CHUNK = 100
"""Bytes in each of the slow server's chunks."""

PACE = 0.2
"""Seconds between the slow server's chunks."""

RESET_LINGER = struct.pack("ii", 1, 0)


Looks = tuple[tuple[float, tuple[str, ...]], ...]
"""What the server's kernel kept of a connection at chosen times: ``(time, states)`` pairs."""


@dataclass(frozen=True)
class Seen:
    """What a client saw: how its connection ended, after how many bytes, and when.

    ``end`` is C{"clean"} (a FIN after the bytes), C{"reset"}, C{"refused"},
    or C{"open"} (still open when the scenario ended); ``at`` is when it
    ended, in seconds from the start of the scenario (None if open).
    ``server``, for a scenario that looks, is what the server's kernel kept of
    the connection at chosen times: the TCP state of each socket, as C{ss}
    names it (L{Harness.server_sockets}).
    """

    end: str
    received: int
    at: float | None = None
    server: Looks = ()

    def __str__(self) -> str:
        when = "" if self.at is None else f" at {self.at:g} s"
        looks = ", ".join(f"{' '.join(states) or 'none'} at {t:g} s" for t, states in self.server)
        kept = f"; the server's side: {looks}" if looks else ""
        return f"{self.end}, {self.received} bytes{when}{kept}"


class Watcher(Protocol):
    """A client that keeps what it receives and how its connection ended (and when)."""

    transport: Any

    def __init__(self, clock: Callable[[], float], request: bytes = b"", pause: float = 0) -> None:
        self._clock, self._request, self._pause = clock, request, pause
        self.received = 0
        self.end, self.at = "open", None  # type: tuple[str, float | None]

    def connectionMade(self) -> None:
        """Send the request, if any; stop reading for a while, if asked to."""
        if self._request:
            self.transport.write(self._request)
        if self._pause:
            self.transport.pauseProducing()
            self.transport.reactor.callLater(self._pause, self._resume)

    def _resume(self) -> None:
        if self.transport.connected:
            self.transport.resumeProducing()

    def dataReceived(self, data: bytes) -> None:
        """Count the bytes."""
        self.received += len(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Note how and when the connection ended."""
        self.end = "clean" if reason.check(ConnectionDone) else "reset"
        self.at = self._clock()

    def failed(self, reason: Failure) -> None:
        """The connection was never made."""
        self.end = "refused" if "refused" in str(reason.value).lower() else "failed"
        self.at = self._clock()


@implementer(IHalfCloseableProtocol)
class StayingWatcher(Watcher):
    """A watcher that stays after the server's FIN (half-closed), until it aborts or is reset.

    Its end is how the server's side ended: C{"clean"} at the FIN.
    """

    def readConnectionLost(self) -> None:
        """The server's FIN: the poem is whole; the client's side stays open."""
        self.end, self.at = "clean", self._clock()

    def writeConnectionLost(self) -> None:
        """Never asked for: the client does not half-close."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Note the end, unless the server's FIN already ended the poem."""
        if self.end == "open":
            super().connectionLost(reason)


class Scripted(Protocol):
    """A server that runs a script of ``(seconds after connecting, action)`` steps.

    Actions: C{("write", n)} sends n bytes; C{"close"}, C{"abort"},
    C{"half-close"}, C{"linger zero"} (C{SO_LINGER} 0 on the connection),
    C{"stop reading"}.
    """

    transport: Any

    def __init__(self, script: list[tuple[float, Any]]) -> None:
        self._script = script
        self._calls: list[Any] = []

    def connectionMade(self) -> None:
        """Run the steps at their times (the first ones at once)."""
        for delay, action in self._script:
            if delay:
                self._calls.append(self.transport.reactor.callLater(delay, self._do, action))
            else:
                self._do(action)

    def _do(self, action: Any) -> None:
        if isinstance(action, tuple):
            self.transport.write(b"x" * action[1])
        elif action == "close":
            self.transport.loseConnection()
        elif action == "abort":
            self.transport.abortConnection()
        elif action == "half-close":
            self.transport.loseWriteConnection()
        elif action == "linger zero":
            self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        elif action == "stop reading":
            self.transport.pauseProducing()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Forget the steps still to come."""
        for call in self._calls:
            if call.active():
                call.cancel()


def slow(chunks: int, then: Any = "close", pace: float = PACE) -> list[tuple[float, Any]]:
    """The script of a slow server: ``chunks`` chunks ``pace`` apart, then ``then``."""
    steps: list[tuple[float, Any]] = [(round(i * pace, 6), ("write", CHUNK)) for i in range(chunks)]
    return [*steps, ((chunks - 1) * pace, then)] if then else steps


Scenario = Callable[[Harness], Awaitable[Seen]]


@dataclass(frozen=True)
class Cell:
    """A fault in one phase of a connection, and what the client sees then on Linux."""

    fault: str
    phase: str
    expected: Seen
    shows: str
    """What the cell shows, in a sentence (the check's docstring)."""
    scenario: Scenario = field(compare=False)
    bytes_tolerance: float = 0.0
    """How far (as a fraction) the bytes may differ from L{expected}: buffer sizes vary."""
    time_tolerance: float = 0.3
    """How far (in seconds) the end may be from L{expected}."""
    loopback_only: str = ""
    """Why only loopback's kernel gives L{expected}, if so (the namespaces' differs, and why)."""
    settings: dict[str, float] = field(default_factory=dict)
    """The kernels' settings the scenario runs with (L{kernel_settings}), if not the defaults."""

    @property
    def name(self) -> str:
        """The check's name: the fault and the phase."""
        words = f"{self.fault} {self.phase}".replace("-", " ").split()
        return "test_" + "_".join(words)

    def agrees(self, seen: Seen) -> bool:
        """Whether ``seen`` is L{expected}, within the tolerances."""
        expected = self.expected
        if seen.end != expected.end:
            return False
        if abs(seen.received - expected.received) > self.bytes_tolerance * expected.received:
            return False
        if seen.server != expected.server:
            return False
        if expected.at is None or seen.at is None:
            return expected.at is seen.at
        return abs(seen.at - expected.at) <= self.time_tolerance


async def observe(
    h: Harness,
    script: list[tuple[float, Any]],
    faults: list[tuple[float, Callable[[IListeningPort, Watcher], object]]] = (),  # type: ignore[assignment]
    seconds: float = 2.0,
    request: bytes = b"",
    before: Callable[[IListeningPort], Awaitable[None]] | None = None,
    pause: float = 0,
    watcher: type[Watcher] = Watcher,
) -> Seen:
    """Serve ``script``, connect a client, put ``faults`` on at their times; return what it saw.

    Each fault is ``(seconds after the start, fault(port, client))``. After
    ``seconds``, whatever is still open is aborted, and the scenario ends.
    The client is a ``watcher``.
    """
    start = h.now()
    port = h.listen(Factory.forProtocol(lambda: Scripted(script)))
    client = watcher(lambda: round(h.now() - start, 3), request, pause)
    if before is not None:
        await before(port)
    connecting = h.start_connecting(port, client)
    connecting.addErrback(client.failed)
    elapsed = 0.0
    for at, fault in sorted(faults, key=lambda step: step[0]):
        await h.elapse(at - elapsed)
        elapsed = at
        done = fault(port, client)
        if isawaitable(done):
            await done
    await h.elapse(seconds - elapsed)
    seen = Seen(client.end, client.received, client.at)
    if client.end == "open" and client.transport is not None:
        client.transport.abortConnection()
    await h.elapse(0.1 if seen.end != "open" else 0.5)
    return seen


def at_once(h: Harness, what: str) -> Callable[[IListeningPort, Watcher], object]:
    """A fault that calls the harness's ``what`` with no argument."""
    return lambda port, client: getattr(h, what)()


def client_aborts(port: IListeningPort, client: Watcher) -> None:
    """A fault: the client aborts its connection (a reset, C{SO_LINGER} 0)."""
    client.transport.abortConnection()


def looking(
    h: Harness, times: list[float]
) -> tuple[list[tuple[float, Callable[[IListeningPort, Watcher], Awaitable[None]]]], list[Any]]:
    """Faults that look at what the server's kernel keeps of the port's connections, at ``times``.

    Returns the faults, and the list they fill with ``(time, states)``.
    """
    kept: list[Any] = []

    def look(at: float) -> Callable[[IListeningPort, Watcher], Awaitable[None]]:
        async def observe_server(port: IListeningPort, client: Watcher) -> None:
            kept.append((at, tuple(await h.server_sockets(port))))

        return observe_server

    return [(at, look(at)) for at in times], kept


def _cells() -> list[Cell]:
    """Every cell of the matrix, each with its scenario."""
    # pragma: no mutate block (run at import, before mutmut makes any mutant active)
    cells: list[Cell] = []

    def cell(
        fault: str,
        phase: str,
        expected: Seen,
        shows: str,
        **options: Any,
    ) -> Callable[[Scenario], Scenario]:
        def add(scenario: Scenario) -> Scenario:
            cells.append(Cell(fault, phase, expected, shows, scenario, **options))
            return scenario

        return add

    @cell("refuse", "connecting", Seen("refused", 0, 0.0), "A refused attempt fails at once.")
    async def refused(h: Harness) -> Seen:
        return await observe(h, [(0, ("write", CHUNK)), (0, "close")], before=h.refuse)

    @cell(
        "black hole",
        "connecting",
        Seen("clean", CHUNK, 1.0),
        "A black-holed attempt connects at its first SYN retry after the hole closes (1 s).",
    )
    async def black_holed(h: Harness) -> Seen:
        def lift(port: IListeningPort, client: Watcher) -> Awaitable[None]:
            return h.restore(port)

        return await observe(
            h, [(0, ("write", CHUNK)), (0, "close")], [(0.5, lift)], before=h.black_hole
        )

    @cell(
        "partition",
        "connecting",
        Seen("clean", CHUNK, 2.0),
        "Through a partition healed at 1.5 s, the attempt connects at its SYN retry at 2 s.",
    )
    async def partitioned_connect(h: Harness) -> Seen:
        return await observe(
            h,
            [(0, ("write", CHUNK)), (0, "close")],
            [(1.5, at_once(h, "heal"))],
            seconds=3,
            before=lambda port: h.partition(),
        )

    @cell(
        "latency",
        "connecting",
        Seen("clean", CHUNK, 0.4),
        "With 0.1 s each way, the poem arrives at 0.4 s: SYN, SYN-ACK, ACK, then the bytes.",
    )
    async def latency(h: Harness) -> Seen:
        await h.set_latency(0.1)
        return await observe(h, [(0, ("write", CHUNK)), (0, "close")])

    @cell(
        "abort",
        "before the first byte",
        Seen("reset", 0, 0.0),
        "A server that aborts before sending resets the client: never a clean empty poem.",
    )
    async def abort_at_once(h: Harness) -> Seen:
        return await observe(h, [(0, "abort")])

    @cell(
        "crash",
        "before the first byte",
        Seen("clean", 0, 0.3),
        "A server process that dies before sending leaves its kernel to close: a FIN, 0 bytes.",
    )
    async def crash_early(h: Harness) -> Seen:
        return await observe(h, [], [(0.3, at_once(h, "crash_server"))])

    @cell(
        "partition",
        "before the first byte",
        Seen("clean", CHUNK, 1.6),
        "Bytes sent into a partition (at 0.2 s, healed at 1 s) arrive at the try at 1.6 s.",
    )
    async def partition_early(h: Harness) -> Seen:
        return await observe(
            h,
            [(0.2, ("write", CHUNK)), (0.2, "close")],
            [(0.1, at_once(h, "partition")), (1.0, at_once(h, "heal"))],
        )

    @cell(
        "hold",
        "before the first byte",
        Seen("clean", CHUNK, 1.6),
        "A held connection delivers at the first retransmission after its release (at 1.6 s).",
    )
    async def hold_early(h: Harness) -> Seen:
        return await observe(
            h,
            [(0.2, ("write", CHUNK)), (0.2, "close")],
            [(0.1, lambda p, c: h.hold(c)), (1.0, lambda p, c: h.release(c))],
        )

    @cell(
        "abort",
        "mid-poem",
        Seen("reset", 2 * CHUNK, 0.3),
        "A server that aborts mid-poem resets the client, which keeps what it had.",
    )
    async def abort_mid(h: Harness) -> Seen:
        return await observe(h, [*slow(2, None), (0.3, "abort")])

    @cell(
        "crash",
        "mid-poem",
        Seen("clean", 2 * CHUNK, 0.3),
        "A server process that dies mid-poem leaves a FIN after what its kernel held: a cut"
        " poem that looks whole (the reason txpoetry's sockets linger 0 until the poem is out).",
    )
    async def crash_mid(h: Harness) -> Seen:
        return await observe(h, slow(5, None), [(0.3, at_once(h, "crash_server"))])

    @cell(
        "crash, linger 0",
        "mid-poem",
        Seen("reset", 2 * CHUNK, 0.3),
        "A dying server whose socket is set to C{SO_LINGER} 0 resets the client instead.",
    )
    async def crash_linger_mid(h: Harness) -> Seen:
        return await observe(
            h, [(0, "linger zero"), *slow(5, None)], [(0.3, at_once(h, "crash_server"))]
        )

    @cell(
        "partition",
        "mid-poem",
        Seen("clean", 5 * CHUNK, 1.2),
        "A partition from 0.3 s to 1 s: the chunks sent meanwhile arrive at the try at 1.2 s.",
    )
    async def partition_mid(h: Harness) -> Seen:
        return await observe(
            h, slow(5), [(0.3, at_once(h, "partition")), (1.0, at_once(h, "heal"))], seconds=2.5
        )

    @cell(
        "partition to the client",
        "mid-poem",
        Seen("clean", 5 * CHUNK, 1.2),
        "A partition of the server's packets only: the same as both ways, for the client.",
    )
    async def partition_to_client(h: Harness) -> Seen:
        def cut(port: IListeningPort, client: Watcher) -> Awaitable[None]:
            return h.partition("to_client")

        return await observe(h, slow(5), [(0.3, cut), (1.0, at_once(h, "heal"))], seconds=2.5)

    @cell(
        "partition to the server",
        "mid-poem",
        Seen("clean", 8 * CHUNK, 1.9),
        "A partition of the client's packets only (its ACKs), from 0.2 s to 1.5 s, of a server"
        " sending every 0.15 s: once its timeout passes (0.7 s), the server sends nothing new"
        " until an ACK comes, at its try at 1.9 s.",
    )
    async def partition_to_server(h: Harness) -> Seen:
        def cut(port: IListeningPort, client: Watcher) -> Awaitable[None]:
            return h.partition("to_server")

        return await observe(
            h, slow(8, pace=0.15), [(0.2, cut), (1.5, at_once(h, "heal"))], seconds=3
        )

    @cell(
        "hold",
        "mid-poem",
        Seen("clean", 5 * CHUNK, 1.2),
        "A connection held from 0.3 s to 1 s: as a partition, for this connection only.",
    )
    async def hold_mid(h: Harness) -> Seen:
        return await observe(
            h,
            slow(5),
            [(0.3, lambda p, c: h.hold(c)), (1.0, lambda p, c: h.release(c))],
            seconds=2.5,
        )

    @cell(
        "reset in a partition",
        "mid-poem",
        Seen("open", 2 * CHUNK),
        "A reset sent into a partition is lost for good: after the heal the client still waits.",
    )
    async def reset_in_partition(h: Harness) -> Seen:
        return await observe(
            h,
            [*slow(2, None), (0.5, "abort")],
            [(0.3, at_once(h, "partition")), (1.0, at_once(h, "heal"))],
        )

    @cell(
        "reader that does not read",
        "closing",
        Seen("reset", 128_512, 0.3),
        "A server that writes 2 MB to a client that waits, its request unread, then closes:"
        " the reset drops what the client's kernel did not hold.",
        bytes_tolerance=0.15,
        loopback_only=(
            "across the veth pair the writer's send buffer starts near 160 KB and grows as"
            " ACKs come back, so Twisted's buffer does not drain before the reader reads: the"
            " reader gets every byte and a clean close; the simulation's buffers are"
            " loopback's, which takes 4 MB at once (KernelSettings)"
        ),
    )
    async def unread_big(h: Harness) -> Seen:
        return await observe(
            h,
            [(0, "stop reading"), (0.05, ("write", 2_000_000)), (0.05, "close")],
            request=b"GET / HTTP/1.0\r\n\r\n",
            pause=0.3,
        )

    @cell(
        "close with a request unread",
        "closing",
        Seen("clean", 20, 0.0),
        "A server that writes and closes at once, the request unread: the FIN leaves first.",
    )
    async def unread_small(h: Harness) -> Seen:
        return await observe(h, [(0, ("write", 20)), (0, "close")], request=b"GET /\r\n\r\n")

    @cell(
        "linger 0, then close",
        "closing",
        Seen("clean", CHUNK, 0.0),
        "C{SO_LINGER} 0, then C{loseConnection}: Twisted's shutdown sends the FIN first.",
    )
    async def linger_close(h: Harness) -> Seen:
        return await observe(h, [(0, "linger zero"), (0, ("write", CHUNK)), (0, "close")])

    @cell(
        "crash",
        "after the FIN",
        Seen("clean", CHUNK, 0.0),
        "A server that dies after its FIN changes nothing for the client: it has the poem.",
    )
    async def crash_after_fin(h: Harness) -> Seen:
        return await observe(
            h,
            [(0, ("write", CHUNK)), (0, "half-close")],
            [(0.3, at_once(h, "crash_server"))],
        )

    @cell(
        "partition",
        "after the FIN",
        Seen("clean", CHUNK, 1.0),
        "A FIN sent into a partition (at 0.2 s, healed at 0.9 s) arrives at the try at 1 s.",
    )
    async def partition_fin(h: Harness) -> Seen:
        return await observe(
            h,
            [(0, ("write", CHUNK)), (0.2, "close")],
            [(0.1, at_once(h, "partition")), (0.9, at_once(h, "heal"))],
        )

    async def reset_lost_after_close(h: Harness, times: list[float]) -> Seen:
        """The server sends and closes; the client stays, then resets into a partition."""
        looks, kept = looking(h, times)
        seen = await observe(
            h,
            [(0, ("write", CHUNK)), (0, "close")],
            [
                (0.1, at_once(h, "partition")),
                (0.2, client_aborts),
                (0.3, at_once(h, "heal")),
                *looks,
            ],
            seconds=max(times),
            watcher=StayingWatcher,
        )
        return replace(seen, server=tuple(kept))

    @cell(
        "reset in a partition",
        "after the FIN",
        Seen("clean", CHUNK, 0.0, ((1.5, ("FIN-WAIT-2",)), (2.5, ()))),
        "With C{tcp_fin_timeout} 2 s: the server sends the poem and closes; the client, which"
        " stays, resets in a partition (0.1 s to 0.3 s) and its reset is lost. The server's"
        " side, its FIN acknowledged, waits in FIN-WAIT-2 for a FIN that never comes, and is"
        " dropped at 2 s.",
        settings={"fin_timeout": 2},
    )
    async def reset_lost_after_fin(h: Harness) -> Seen:
        return await reset_lost_after_close(h, [1.5, 2.5])

    @cell(
        "reset in a partition, fin_timeout 0",
        "after the FIN",
        Seen("clean", CHUNK, 0.0, ((0.4, ("FIN-WAIT-2",)), (1.1, ()))),
        "The same with C{tcp_fin_timeout} 0: the server's side still waits three and a half"
        " retransmission timeouts (0.7 s; C{tcp_fin_time}).",
        settings={"fin_timeout": 0},
    )
    async def reset_lost_fin_timeout_zero(h: Harness) -> Seen:
        return await reset_lost_after_close(h, [0.4, 1.1])

    return cells


CELLS: list[Cell] = _cells()
"""Every cell of the matrix."""


class KernelChecks:
    """One check per cell: the client sees what Linux gives it, under each fault in each phase."""


def _check(cell: Cell) -> Callable[[Any], Awaitable[None]]:
    """The check of ``cell``, named after it, its docstring what it shows."""

    async def check(self: Any) -> None:
        await run_cell(cell, self)

    check.__name__ = cell.name  # pragma: no mutate (run at import, before any mutant is)
    check.__doc__ = cell.shows  # pragma: no mutate (run at import, before any mutant is)
    return kernel_settings(**cell.settings)(check) if cell.settings else check


async def run_cell(cell: Cell, case: Any) -> None:
    """Run ``cell``'s scenario on the harness ``case``; fail unless the client saw what Linux gives.

    A cell only loopback's kernel agrees with is skipped across the namespaces, saying why.
    """
    if cell.loopback_only and case.world == "namespaces":
        raise SkipTest(cell.loopback_only)
    seen = await cell.scenario(case)
    case.assertTrue(cell.agrees(seen), f"saw {seen}; the kernel gives {cell.expected}")


for _cell in CELLS:
    setattr(KernelChecks, _cell.name, _check(_cell))


def render(cells: list[Cell] = CELLS) -> str:
    """The page C{docs/fidelity.md}: each fault by phase, what the client sees, where checked."""
    faults = list(dict.fromkeys(cell.fault for cell in cells))
    rows = ["| fault | " + " | ".join(PHASES) + " |", "|---" * (len(PHASES) + 1) + "|"]
    for fault in faults:
        entries = []
        for phase in PHASES:
            found = [c for c in cells if (c.fault, c.phase) == (fault, phase)]
            entries.append(f"{found[0].expected} ({_where(found[0])})" if found else "—")
        rows.append(f"| {fault} | " + " | ".join(entries) + " |")
    lines = "\n".join(f"- `{c.name}`: {c.shows}{_across(c)}{_settings(c)}" for c in cells)
    return PAGE.format(table="\n".join(rows), cells=lines)


def _settings(cell: Cell) -> str:
    """How a cell's kernels are set, if not as by default."""
    if not cell.settings:
        return ""
    given = ", ".join(f"`{name}={value:g}`" for name, value in cell.settings.items())
    return f" Kernel settings: {given} (in memory `KernelSettings`, across the namespaces sysctls)."


def _across(cell: Cell) -> str:
    """What the namespaces' kernel gives instead, for a cell only loopback's kernel agrees with."""
    return f" Across the namespaces: {cell.loopback_only}." if cell.loopback_only else ""


def _where(cell: Cell) -> str:
    """Where a cell's outcome is checked against the kernel."""
    if cell.fault == "latency":
        return "memory only: this kernel has no netem"
    if cell.loopback_only:
        return "agrees with loopback; see below"
    if cell.fault in LOOPBACK_FAULTS:
        return "agrees with the kernel and loopback"
    return "agrees with the kernel"


LOOPBACK_FAULTS = frozenset(
    {
        "abort",
        "crash",
        "crash, linger 0",
        "reader that does not read",
        "close with a request unread",
        "linger 0, then close",
    }
)
"""The faults loopback TCP can express by itself (no firewall rule needed)."""

PAGE = """# How connections end: the simulated network against the kernel

Generated by `python -m poetry.testing.fidelity` from `poetry/testing/fidelity.py`; a unit test
fails when this page is stale.

Each cell is what a client sees on Linux when one fault strikes its connection in one phase: how
the connection ends (a clean close, a reset, a refusal, or still open), after how many bytes, and
when (seconds from the start of the scenario). The same check, of the same name, passes on the
simulated network (`tests/unit/testing/test_fidelity.py`), across two network namespaces joined
by a veth pair with nftables rules for the faults, and, where loopback can express the fault, on
loopback (`tests/integration/test_fidelity.py`). Times are checked within 0.3 s, the bytes of the
reader that does not read within 15% (the kernel's receive buffer autotunes); "—" is a phase
where the fault does not apply. A cell that looks at the server's side also gives what its
kernel kept of the connection at chosen times: the TCP state of each socket as `ss` names it
(in memory, the state of each side the simulator still has). A cell whose kernels are set
otherwise says so: in memory they are the network's `KernelSettings`, across the namespaces the
sysctls of a pair of its own. No cell differs from the kernel.

{table}

The scenarios (the slow server sends {chunk} bytes every {pace} s):

{cells}

Where the simulation is simpler than the kernel, and why it does not show in these outcomes:

- A receiver's window is known to its sender at once (a real sender learns it from ACKs); a lost
  window update is covered by a probe timer, as on Linux.
- Out-of-order segments are dropped and sent again, not queued: with no SACK, the bytes arrive at
  the same retransmission.
- Send buffers do not autotune; TIME_WAIT, keepalives, Nagle's algorithm and congestion control are
  not modelled (no cell looks at a side in TIME_WAIT).
- Latency cannot be produced on this kernel (no netem): its cells are checked in memory only.
""".replace("{chunk}", str(CHUNK)).replace("{pace}", str(PACE))


if __name__ == "__main__":
    print(render(), end="")
