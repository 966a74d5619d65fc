"""The contract behaviours (``tests/support/contracts.py``) on the in-memory network.

What the in-memory network cannot show, and the real class in
``tests/integration/test_contract_tcp.py`` does: bytes arrive in the packets they
were written in (real TCP splits and joins them); producers are never paused (no
send buffer fills); a refusal is the network's answer, not the kernel's; connects
complete only when flushed, so "cancel while connecting" is exact here and a race
there.

What ``poetry.testing`` models after real TCP under Twisted, so that the same
tests pass in both tiers: an abort resets on the reactor's next turn, and a
process that exits before then leaves a FIN (``test_shutdown_past_grace_is_a_reset``);
a half-close reaches a half-closeable protocol and closes any other
(``test_half_closing_client_gets_whole_poem``); a declining factory accepts and
closes at once (``test_declined_connection_is_an_error``). In the TCP tier the
process cannot really exit: its harness closes what the stopped service left
open the way the kernel does at exit (a FIN), before the reactor turns again.

Integration-only (``tests/integration/test_integrity.py``, real processes): a
real process exit after SIGTERM, under the command and under twistd; the
file-descriptor limit and Twisted's EMFILE recovery; listen-backlog overflow
under a burst of connects.
"""

from __future__ import annotations

from twisted.internet.interfaces import IListeningPort

from poetry.core.address import Address
from poetry.operations.graceful import GracefulServerService
from poetry.testing.kits import MemoryHarness, in_memory
from tests.support.contracts import PoetryContract


class ContractMemoryHarness(MemoryHarness):
    """The kit's in-memory harness, with what txpoetry's own contract needs besides."""

    def unused_address(self) -> Address:
        """Port 1 of loopback: nothing listens there on the memory network."""
        return Address("127.0.0.1", 1)

    def kill_process(self, service: GracefulServerService, port: IListeningPort) -> None:
        """The server's process dies: its kernel closes what it had open; the client lives on."""
        self.server_process.crash()


InMemoryContractTests = in_memory(PoetryContract, ContractMemoryHarness, "InMemoryContractTests")
