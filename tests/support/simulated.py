"""A simulated network with a server host and a client host, for the simulator's own tests."""

from __future__ import annotations

import errno
import socket
from typing import Any

from twisted.internet.interfaces import IProtocol, IProtocolFactory
from twisted.internet.protocol import ClientFactory, Factory
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.sockets import KernelSocket
from poetry.testing.trial import MemoryNetworkMixin

SERVER_HOST = "10.0.0.1"
CLIENT_HOST = "10.0.0.2"
PORT = 10000


class SimulatedTestCase(MemoryNetworkMixin, SynchronousTestCase):
    """A fresh network per test: a process C{server} at L{SERVER_HOST}, C{client} at L{CLIENT_HOST}.

    The test must leave nothing behind (checked after it, by the public
    L{MemoryNetworkMixin}), unless it says it means to with L{leave}. A class
    may give the kernels' C{settings}.
    """

    def setUp(self) -> None:
        """Make the network and its two processes."""
        super().setUp()
        self.server = self.network.process("server", SERVER_HOST)
        self.client = self.network.process("client", CLIENT_HOST)
        self._check = True

    def leave(self) -> None:
        """Say the test leaves connections or timers on purpose: do not check."""
        self._check = False

    def check_nothing_left(self) -> None:
        """Check, unless the test said it leaves things on purpose."""
        if self._check:
            super().check_nothing_left()

    def on_the_wire(self) -> list[tuple[str, float]]:
        """The kernel's packets in flight and timers set: what each is, and when it is due."""
        return [(event.what, event.time) for event in self.network.kernel.timeline.pending()]

    def serve(self, factory: IProtocolFactory, port: int = PORT, backlog: int = 50) -> Any:
        """Listen with ``factory`` in the server process; return the port."""
        return self.server.reactor.listenTCP(port, factory, backlog, interface=SERVER_HOST)

    def connect(self, protocol: IProtocol, port: int = PORT, **kwargs: Any) -> Any:
        """Connect ``protocol`` from the client process to the server host; return the connector."""
        factory = ClientFactory.forProtocol(lambda: protocol)
        return self.client.reactor.connectTCP(SERVER_HOST, port, factory, **kwargs)

    def pair(self, server: IProtocol, client: IProtocol) -> None:
        """Serve ``server``, connect ``client`` to it, and let the connection be made."""
        self.serve(Factory.forProtocol(lambda: server))
        self.connect(client)
        self.network.flush()

    def server_socket(self) -> KernelSocket:
        """A new socket of the server process, listening on L{PORT} of L{SERVER_HOST}."""
        listening = self.server.reactor.make_socket(socket.AF_INET)
        listening.bind((SERVER_HOST, PORT))
        listening.listen(50)
        return listening

    def client_socket(self) -> KernelSocket:
        """A new socket of the client process, connecting to the server's L{PORT}."""
        connecting = self.client.reactor.make_socket(socket.AF_INET)
        connecting.connect_ex((SERVER_HOST, PORT))
        return connecting

    def socket_pair(self) -> tuple[KernelSocket, KernelSocket]:
        """A connected pair of sockets, made and accepted: the server's and the client's."""
        listening = self.server_socket()
        connecting = self.client_socket()
        self.network.flush()
        accepted, _ = listening.accept()
        listening.close()
        return accepted, connecting


def read_all(sock: KernelSocket) -> tuple[bytes, str]:
    """Read until the socket would block or ends; return the bytes and how it ended.

    The end is C{"open"} (it would block), C{"eof"} (a clean close), or the
    name of the error a read raised (C{"ECONNRESET"}, ...).
    """
    received = b""
    while True:
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return received, "open"
        except OSError as error:
            return received, errno.errorcode[error.errno]
        if not data:
            return received, "eof"
        received += data
