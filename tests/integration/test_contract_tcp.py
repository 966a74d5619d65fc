"""The contract behaviours (``tests/support/contracts.py``) over real loopback TCP.

This class covers what the in-memory one cannot: the kernel splitting and
joining packets, real send buffers and flow control under a large poem, real
refusal by the kernel, real resets (an abort sends RST), and real connect races.
"""

from __future__ import annotations

from twisted.internet.interfaces import IListeningPort

from poetry.core.address import Address
from poetry.operations.graceful import GracefulServerService
from poetry.testing.kernel_harnesses import close_like_exit
from poetry.testing.kits import TCPHarness, over_tcp
from tests.support.contracts import PoetryContract
from tests.support.sockets import refusing_port


class ContractTCPHarness(TCPHarness):
    """The kit's loopback TCP harness, with what txpoetry's own contract needs besides."""

    def unused_address(self) -> Address:
        """A loopback port held bound, not listening, until the test ends: connects are refused."""
        return Address("127.0.0.1", refusing_port(self.addCleanup))  # type: ignore[attr-defined]

    def keep_service(self, service: GracefulServerService) -> None:
        """Stop ``service`` when the test ends."""
        self.addCleanup(service.stopService)  # type: ignore[attr-defined]

    def kill_process(self, service: GracefulServerService, port: IListeningPort) -> None:
        """Close what ``service`` has open the way the kernel does when a process dies.

        The process running the test cannot die, so each connection still open
        has its descriptor closed at once (the kernel then sends a FIN, or a
        reset if the socket's C{SO_LINGER} is 0), before the reactor turns
        again. Only then are the protocols told, so that the test leaves nothing
        behind; the peers have seen what they would have seen. The real exit is
        tested on real processes in ``test_integrity.py``.
        """
        for protocol in list(service.tracker.protocols):
            close_like_exit(protocol.transport)


RealTCPContractTests = over_tcp(PoetryContract, ContractTCPHarness, "RealTCPContractTests")
