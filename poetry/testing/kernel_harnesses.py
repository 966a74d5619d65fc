"""The harnesses on the real kernel: loopback TCP, and two Linux network namespaces.

Checks on them run with the real reactor in real time (the integration
tier's): L{TCPHarness} on loopback, L{NamespaceHarness} across two network
namespaces joined by a veth pair with nftables rules for the faults (root
only; it skips, saying why, elsewhere). A server process's death is the
kernel closing the server's sockets: the test's process cannot die, so the
harness closes them as the kernel does at exit (a FIN, or a reset where
C{SO_LINGER} is 0), before the reactor turns again.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import IAddress, IListeningPort, IProtocol, IProtocolFactory
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest

from poetry.testing.harnesses import Direction, Harness, listening_port, port_of
from poetry.testing.kernel import as_sysctls

T = TypeVar("T")


class RealKernelHarness(Harness):
    """The real reactor, real time, real sockets (the integration tier's harnesses)."""

    timeout = 30

    @classmethod
    def begin_batch(cls) -> None:
        """Prepare what checks run together share (nothing, here)."""

    @classmethod
    def end_batch(cls) -> None:
        """Undo L{begin_batch}."""

    def setUp(self) -> None:
        """Use the real reactor."""
        from twisted.internet import reactor

        self.reactor = self.server_reactor = reactor
        self._served: list[IProtocol] = []
        self._clients: list[IProtocol] = []
        self._attempts: list[Deferred[Any]] = []
        self._ports: list[IListeningPort] = []
        self._finishing: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]] = []
        super().addCleanup(self.finish)

    def addCleanup(self, f: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """Do ``f`` when the check ends (by L{finish}, which the test's cleanup calls)."""
        self._finishing.append((f, args, kwargs))

    def finish(self) -> Deferred[None]:
        """Undo what the check set up, the last first, waiting for each undoing.

        A check that ended early (skipped, or failed half way) may leave
        connections open or being made: they are aborted, so that the next
        check starts on a clean reactor.
        """

        async def undo() -> None:
            while self._finishing:
                f, args, kwargs = self._finishing.pop()
                await maybeDeferred(f, *args, **kwargs)
            for attempt in self._attempts:
                attempt.addErrback(lambda _: None).cancel()
            for protocol in self._clients + self._served:
                transport = getattr(protocol, "transport", None)
                if transport is not None and getattr(transport, "connected", False):
                    transport.abortConnection()
            await self.elapse(0)  # the aborts end on the reactor's next turn

        return Deferred.fromCoroutine(undo())

    def start_connecting(self, port: IListeningPort, protocol: IProtocol) -> Deferred[Any]:
        """Start connecting ``protocol`` to ``port``, to be aborted at the end if still open."""
        self._clients.append(protocol)
        attempt = super().start_connecting(port, protocol)
        self._attempts.append(attempt)
        return attempt

    def serve(
        self, factory: IProtocolFactory, listen: Callable[[IProtocolFactory], IListeningPort]
    ) -> IListeningPort:
        """Listen with ``listen``, keeping the protocols ``factory`` builds; stop at the end."""

        def build(address: IAddress) -> IProtocol | None:
            protocol = factory.buildProtocol(address)
            if protocol is not None:
                self._served.append(protocol)
            return protocol

        port = listen(_Keeping(factory, build))  # type: ignore[arg-type]
        self._ports.append(port)
        self.addCleanup(port.stopListening)
        return port

    async def elapse(self, seconds: float) -> None:
        """Let real time pass."""
        d: Deferred[None] = Deferred()
        self.reactor.callLater(seconds, d.callback, None)
        await d

    async def wait(self, d: Deferred[T]) -> T:
        """Wait for ``d`` on the real reactor."""
        return await d

    async def server_sockets(self, port: IListeningPort) -> list[str]:
        """What C{ss} lists of the server host's connected sockets on ``port`` (in a thread)."""
        where = f"src {self.server_host}:{listening_port(port)}"
        listed = await deferToThread(self.on_server, "ss", "-Htan", "state", "connected", where)
        return sorted(line.split()[0] for line in listed.splitlines() if line.strip())

    def on_server(self, *argv: str) -> str:
        """Run a command on the server's host; return its output."""
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
        return done.stdout

    def crash_server(self) -> None:
        """Close the server's sockets as the kernel does when its process dies.

        The ports close first (connections the kernel made and the server
        never accepted are reset), then each connection's socket, with no
        shutdown and nothing of Twisted's buffer sent; only then are the
        transports told, so that the check leaves nothing behind.
        """
        for port in self._ports:
            close_like_exit(port)
        for protocol in self._served:
            transport = getattr(protocol, "transport", None)
            if transport is not None and getattr(transport, "socket", None) is not None:
                close_like_exit(transport)


class _Keeping:
    """A factory that builds with ``build`` and is otherwise ``factory``."""

    def __init__(self, factory: IProtocolFactory, build: Callable[[IAddress], Any]) -> None:
        self._factory, self.buildProtocol = factory, build

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory, name)


def close_like_exit(selectable: Any) -> None:
    """Close a port's or transport's socket as process exit does, then tidy up the selectable."""
    reactor = selectable.reactor
    reactor.removeReader(selectable)
    reactor.removeWriter(selectable)
    selectable.socket.close()  # the kernel's close: its SO_LINGER decides FIN or reset
    selectable.connectionLost(Failure(ConnectionLost("the process died")))


class TCPHarness(RealKernelHarness):
    """Loopback TCP on the real reactor, in real time: no faults on the wire."""

    server_host = client_host = "127.0.0.1"
    world = "loopback"

    def setUp(self) -> None:
        """Use the real reactor; skip a check that asks for kernel settings."""
        asked = self.asked_settings()
        if asked:
            raise SkipTest(
                f"loopback's kernel is the host's own: its settings ({', '.join(sorted(asked))})"
                " are not a test's to change"
            )
        super().setUp()

    def listen(self, factory: IProtocolFactory) -> IListeningPort:
        """Listen on a free loopback port until the check ends."""
        return self.serve(
            factory, lambda keeping: self.reactor.listenTCP(0, keeping, interface=self.server_host)
        )


class NamespaceHarness(RealKernelHarness):
    """Two Linux network namespaces joined by a veth pair, faults as nftables rules.

    Each check has a pair of its own; checks run together (C{concurrent=True})
    share one, and each check's faults touch only its own connections (its
    ports): a partition drops the packets to and from the ports it listens on.
    A check that asks for kernel settings
    (L{poetry.testing.harnesses.kernel_settings}) always has a pair of its
    own, with those sysctls in both namespaces (they go with them).
    """

    world = "namespaces"
    _shared: Any = None

    @classmethod
    def begin_batch(cls) -> None:
        """Make the pair that the checks run together share."""
        from poetry.testing.namespaces import NamespacePair

        cls._shared = NamespacePair()

    @classmethod
    def end_batch(cls) -> None:
        """Remove the shared pair."""
        shared, cls._shared = cls._shared, None
        if shared is not None:
            shared.destroy()

    def setUp(self) -> None:
        """Make a pair of namespaces, or take the shared one (skip, saying why, if none can be)."""
        from poetry.testing.namespaces import NamespacePair, namespaces_unavailable

        reason = namespaces_unavailable()
        if reason is not None:
            raise SkipTest(reason)
        try:
            sysctls = as_sysctls(self.asked_settings())
        except ValueError as error:
            raise SkipTest(f"the real kernel cannot be set so: {error}") from None
        super().setUp()
        self._rules: dict[str, list[Any]] = {"partition": [], "hold": [], "doors": []}
        if type(self)._shared is not None and not sysctls:
            self.pair = type(self)._shared
        else:
            self.pair = NamespacePair(sysctls)
            self.addCleanup(self.pair.destroy)
        self.server_host, self.client_host = self.pair.server_address, self.pair.client_address

    def listen(self, factory: IProtocolFactory) -> IListeningPort:
        """Listen on a free port of the server namespace until the check ends."""

        def listen(keeping: IProtocolFactory) -> IListeningPort:
            with self.pair.inside("server"):
                listening: IListeningPort = self.reactor.listenTCP(
                    0, keeping, interface=self.server_host
                )
                return listening

        return self.serve(factory, listen)

    def on_server(self, *argv: str) -> str:
        """Run a command in the server's namespace; return its output."""
        listed: str = self.pair.run("server", *argv)
        return listed

    def as_client(self, start: Callable[[], T]) -> T:
        """Run ``start`` with this thread in the client namespace."""
        with self.pair.inside("client"):
            return start()

    async def partition(self, direction: Direction = "both") -> None:
        """Drop the packets between the namespaces going ``direction``, for this check's ports."""
        if not self._ports:
            raise ValueError("listen before partitioning: a partition takes the check's ports")
        for port in self._ports:
            await self._add("partition", self.pair.drop, direction, None, listening_port(port))

    async def heal(self) -> None:
        """Remove this check's partition."""
        await self._remove("partition")

    async def hold(self, protocol: IProtocol) -> None:
        """Drop the packets of ``protocol``'s connection, by its client-side port."""
        await self._add("hold", self.pair.drop, "both", port_of(protocol))

    async def release(self, protocol: IProtocol) -> None:
        """Let the held connection's packets through again."""
        await self._remove("hold")

    async def black_hole(self, port: IListeningPort) -> None:
        """Drop SYNs to ``port``."""
        await self._add("doors", self.pair.black_hole, listening_port(port))

    async def refuse(self, port: IListeningPort) -> None:
        """Reject SYNs to ``port`` with a reset."""
        await self._add("doors", self.pair.refuse, listening_port(port))

    async def restore(self, port: IListeningPort) -> None:
        """Remove this check's black holes and refusals."""
        await self._remove("doors")

    async def _add(self, kind: str, add: Callable[..., list[Any]], *args: Any) -> None:
        """Add rules in a thread (the reactor goes on meanwhile); keep them to remove."""
        self._rules[kind] += await deferToThread(add, *args)

    async def _remove(self, kind: str) -> None:
        """Remove this check's rules of ``kind``, in a thread."""
        rules, self._rules[kind] = self._rules[kind], []
        await deferToThread(self.pair.remove, rules)
