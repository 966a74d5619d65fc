"""A socket of the simulated kernel, with the calls Twisted's TCP transports make on a real one.

Twisted's own C{tcp.Port}, C{tcp.Server} and C{tcp.Client} run on these
sockets unchanged, so every rule of Twisted's above the socket (when it
writes, reads, half-closes, resets, pauses a producer) is Twisted's own; only
the kernel below is simulated (L{poetry.testing.endpoints}). Every socket is
non-blocking, as Twisted's are.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import struct
from typing import TYPE_CHECKING, Any, Protocol

from poetry.testing.endpoints import CONNECTING, OPEN, Endpoint
from poetry.testing.kernel import Kernel
from poetry.testing.listeners import Listener
from poetry.testing.names import is_ip, is_ipv6, normalised

ORDINARY_LINGER = struct.pack("ii", 0, 0)
"""C{SO_LINGER} off: a closed socket sends what it has, then a FIN."""

RESET_LINGER = struct.pack("ii", 1, 0)
"""C{SO_LINGER} on with no time: a closed socket sends a reset."""


@functools.cache
def _null_descriptor() -> int:
    """A real descriptor (of the null device), opened once, for every simulated socket.

    Some Twisted releases set close-on-exec on an accepted socket's
    descriptor: that needs a descriptor the operating system knows. None of
    them reads or writes it.
    """
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)


class Owner(Protocol):
    """The simulated process a socket belongs to."""

    alive: bool
    """Whether the process still runs."""
    address: str | None
    """The address its connections come from (None: the loopback address of their family)."""

    def adopt(self, sock: KernelSocket) -> None:
        """``sock`` is now one of this process's."""

    def forget(self, sock: KernelSocket) -> None:
        """``sock`` is closed: it is no longer this process's."""


def source_address(owner: Owner, destination: str) -> str:
    """The address a connect to ``destination`` comes from: ``owner``'s, if of that family."""
    address = owner.address
    if address is None or is_ipv6(address) != is_ipv6(destination):
        return "::1" if is_ipv6(destination) else "127.0.0.1"
    return address


def _fail(code: int) -> OSError:
    return OSError(code, os.strerror(code))


class Options:
    """A simulated socket's options (only C{SO_LINGER} changes what it does) and descriptor."""

    _options: dict[tuple[int, int], Any]
    _endpoint: Endpoint | None

    def fileno(self) -> int:
        """A real descriptor (of the null device, shared by every simulated socket)."""
        return _null_descriptor()

    def setblocking(self, flag: bool) -> None:
        """Every simulated socket is non-blocking."""

    def setsockopt(self, level: int, option: int, value: Any) -> None:
        """Set an option; only C{SO_LINGER} changes what the socket does."""
        self._options[(level, option)] = value

    def getsockopt(
        self,
        level: int,
        option: int,
        size: int = 0,  # pragma: no mutate (the buffer's size is not read)
    ) -> Any:
        """Return an option; C{SO_ERROR} gives (and clears) the pending error."""
        if (level, option) == (socket.SOL_SOCKET, socket.SO_ERROR):
            endpoint = self._endpoint
            if endpoint is None or endpoint.error is None:
                return 0
            error, endpoint.error = endpoint.error, None
            return error
        return self._options.get((level, option), 0)

    @property
    def connection(self) -> Any:
        """The network's record of this socket's connection, if it has one."""
        return self._endpoint.connection if self._endpoint is not None else None

    @property
    def resets_on_close(self) -> bool:
        """Whether closing sends a reset (C{SO_LINGER} on, with no time)."""
        onoff, seconds = struct.unpack("ii", self._options[(socket.SOL_SOCKET, socket.SO_LINGER)])
        return bool(onoff) and seconds == 0


class Listening:
    """The listening half of a simulated socket's calls: C{listen} and C{accept}."""

    kernel: Kernel
    family: int
    owner: Owner
    _host: str
    _port: int
    _owns_port: bool
    _options: dict[tuple[int, int], Any]
    _listener: Listener | None

    if TYPE_CHECKING:  # what the socket that mixes this in provides

        def bind(self, address: tuple[Any, ...]) -> None:
            """Bind to an address."""

        def touch(self) -> None:
            """The socket may have become ready."""

    def listen(self, backlog: int) -> None:
        """Take connections: SYNs to this address are answered by the kernel from now on."""
        if not self._owns_port:
            self.bind((self._host, 0))
        self._listener = Listener(
            self.kernel, self._host, self._port, backlog, self._inherit, self.touch
        )
        self.kernel.listen(self._host, self._port, self._listener)

    def _inherit(self, endpoint: Endpoint) -> None:
        """An accepted connection has the listening socket's options (C{SO_LINGER} too)."""
        endpoint.options = dict(self._options)

    def accept(self) -> tuple[Any, tuple[Any, ...]]:
        """Return the oldest connection made and not yet accepted (C{EAGAIN} if none).

        A socket that does not listen refuses, as Linux does, with C{EINVAL}.
        """
        if self._listener is None:
            raise _fail(errno.EINVAL)
        endpoint = self._listener.accept()
        if endpoint is None:
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        accepted = KernelSocket(self.kernel, self.family, self.owner, endpoint)
        return accepted, accepted.getpeername()


class KernelSocket(Options, Listening):
    """A TCP socket of the simulated kernel: listening, connecting or connected."""

    type = socket.SOCK_STREAM
    proto = 0

    def __init__(
        self, kernel: Kernel, family: int, owner: Owner, endpoint: Endpoint | None = None
    ) -> None:
        self.kernel, self.family, self.owner = kernel, family, owner
        self.transport: Any = None
        """The Twisted transport using this socket, once there is one."""
        self._options: dict[tuple[int, int], Any] = {
            (socket.SOL_SOCKET, socket.SO_LINGER): ORDINARY_LINGER
        }
        self._host = "::" if family == socket.AF_INET6 else "0.0.0.0"
        self._port = 0
        self._owns_port = False
        self._listener: Listener | None = None
        self._endpoint = endpoint
        self.closed = False
        if endpoint is not None:
            endpoint.socket = self
            self._options.update(endpoint.options)
            self._host, self._port = endpoint.host, endpoint.port
        owner.adopt(self)

    def __repr__(self) -> str:
        return f"<KernelSocket {self._host}:{self._port}>"

    # addresses

    def bind(self, address: tuple[Any, ...]) -> None:
        """Bind to an address (a free port when its port is 0); C{EADDRINUSE} if taken."""
        name, port = address[0], address[1]
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise OverflowError("bind(): port must be 0-65535.")
        if name and not is_ip(name):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        host = normalised(name) if name else self._host
        self._port = self.kernel.bind(host, port, listening=True)
        self._host, self._owns_port = host, True

    def getsockname(self) -> tuple[Any, ...]:
        """Return the local address."""
        return self._address(self._host, self._port)

    def getpeername(self) -> tuple[Any, ...]:
        """Return the peer's address (C{ENOTCONN} when not connected)."""
        endpoint = self._endpoint
        if endpoint is None or endpoint.peer is None:
            raise _fail(errno.ENOTCONN)
        return self._address(endpoint.peer.host, endpoint.peer.port)

    def _address(self, host: str, port: int) -> tuple[Any, ...]:
        """An address as this socket's family spells it (IPv4 ones mapped, on an IPv6 socket)."""
        if self.family != socket.AF_INET6:
            return (host, port)
        return (host if is_ipv6(host) else f"::ffff:{host}", port, 0, 0)

    # connecting

    def connect_ex(self, address: tuple[Any, ...]) -> int:
        """Connect without blocking: C{EINPROGRESS} at first, C{EISCONN} once connected."""
        endpoint = self._endpoint
        if endpoint is None:
            host = normalised(address[0])
            if self._host in ("0.0.0.0", "::"):
                self._host = source_address(self.owner, host)
            if not self._owns_port:
                self._port = self.kernel.bind(
                    self._host,
                    0,
                    listening=False,  # pragma: no mutate (None is as false)
                )
                self._owns_port = True
            endpoint = self._endpoint = Endpoint(self.kernel, self._host, self._port)
            endpoint.socket = self
            endpoint.connection = self.kernel.connection_made(endpoint)
            endpoint.connect(host, address[1])
            return errno.EINPROGRESS
        if endpoint.state == CONNECTING:
            return errno.EALREADY
        if endpoint.state == OPEN:
            return errno.EISCONN
        error, endpoint.error = endpoint.error, None
        return error or errno.ECONNABORTED

    # data

    def send(self, data: bytes) -> int:
        """Queue what the send buffer has room for; return how much that was."""
        endpoint = self._connected()
        if endpoint.error is not None:
            error, endpoint.error = endpoint.error, None
            raise _fail(error)
        if endpoint.state == CONNECTING:
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        if endpoint.state != OPEN or endpoint.outbox.fin:
            raise _fail(errno.EPIPE)
        room = self.kernel.settings.send_buffer - endpoint.outbox.queued
        if room <= 0:
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        accepted = bytes(data[:room])
        endpoint.outbox.append(accepted)
        endpoint.transmit()
        return len(accepted)

    def recv(self, size: int) -> bytes:
        """Return up to ``size`` bytes received; C{b""} at the end; raise an error or C{EAGAIN}."""
        endpoint = self._connected()
        if endpoint.inbox.queued:
            return endpoint.read(size)
        if endpoint.inbox.fin:
            return b""
        if endpoint.error is not None:
            error, endpoint.error = endpoint.error, None
            raise _fail(error)
        if endpoint.read_shut:
            return b""
        if endpoint.state != OPEN:
            raise _fail(errno.ENOTCONN)
        raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    def _connected(self) -> Endpoint:
        if self._endpoint is None:
            raise _fail(errno.ENOTCONN)
        return self._endpoint

    # ends

    def shutdown(self, how: int) -> None:
        """Shut down the sending side (a FIN after the queued bytes), the receiving one, or both."""
        endpoint = self._endpoint
        if endpoint is None or endpoint.state != OPEN:
            raise _fail(errno.ENOTCONN)
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            endpoint.shut_write()
        if how in (socket.SHUT_RD, socket.SHUT_RDWR):
            endpoint.read_shut = True

    def close(self) -> None:
        """Close the socket, as Linux does: a FIN, or a reset (unread bytes, C{SO_LINGER} 0)."""
        if self.closed:
            return
        self.closed = True
        self.owner.forget(self)
        if self._listener is not None:
            self._listener.close()
        if self._endpoint is not None:
            self._endpoint.close(reset=self.resets_on_close)
        if self._owns_port:
            self.kernel.unbind(self._host, self._port)

    # readiness, as the reactor polls it

    def touch(self) -> None:
        """The socket may have become ready: its transport's reactor polls it on its next round."""
        transport = self.transport
        if transport is not None:
            transport.reactor.wake(transport)

    def readable(self) -> bool:
        """Whether a read (or an accept) would not block."""
        if self._listener is not None:
            return self._listener.waiting
        endpoint = self._endpoint
        if endpoint is None:
            return False
        if endpoint.state == CONNECTING:
            return False
        return bool(
            endpoint.inbox.queued
            or endpoint.inbox.fin
            or endpoint.read_shut
            or endpoint.state != OPEN
        )

    def writable(self) -> bool:
        """Whether a write would not block (or would fail at once)."""
        endpoint = self._endpoint
        if endpoint is None or endpoint.state == CONNECTING:
            return False
        if endpoint.state != OPEN or endpoint.outbox.fin:  # an error comes with the end
            return True
        return endpoint.outbox.queued < self.kernel.settings.send_buffer
