"""Two Linux network namespaces joined by a veth pair: real TCP between two hosts, with faults.

A L{NamespacePair} is a "server" host and a "client" host, each a network
namespace of its own with loopback up, joined by a veth pair with an address
on each end. Real Twisted sockets are made in them with L{NamespacePair.inside},
which switches the calling thread's network namespace for the duration of a
C{with} block; a socket keeps the namespace it was made in, so the reactor
goes on driving it, through the veth pair, after the block ends::

    pair = NamespacePair()
    self.addCleanup(pair.destroy)
    with pair.inside("server"):
        port = reactor.listenTCP(0, factory, interface=pair.server_address)
    with pair.inside("client"):
        reactor.connectTCP(pair.server_address, port.getHost().port, clientFactory)

Faults are nftables rules in a table of the pair's own in each namespace,
hooked where packets arrive (the receiving namespace's C{input}), so the
sender's kernel sees a lost packet and retransmits it as it would across a
real network: L{NamespacePair.drop} (a partition, one way or both, or one
held connection), L{NamespacePair.black_hole} (connection attempts
unanswered), L{NamespacePair.refuse} (answered with a TCP reset) and
L{NamespacePair.clear}. The rules use no connection tracking. A pair may be
made with sysctls of its own (C{NamespacePair({"net.ipv4.tcp_fin_timeout": 2})}),
set in both namespaces and gone with them.

Nothing is ever added to the host's own namespace: the veth ends are created
directly inside the two namespaces. Names are unique per process and per pair
(C{txpoetry-PID-N-RANDOM-server}), so parallel runs never clash, and
L{NamespacePair.destroy} (idempotent; also run at exit) removes everything the
pair made. Namespaces left behind by a process that was killed are removed
by the next L{namespaces_unavailable} probe.

Needs Linux, root, C{ip} (iproute2) and C{nft} (nftables); L{namespaces_unavailable}
says what is missing, for a test's C{skip}. The kernel's own behaviour here
(timers, buffers) is the machine's: this module only builds the hosts and
the faults.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import ipaddress
import itertools
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Literal

Side = Literal["server", "client"]
"""One of the pair's two hosts."""

SIDES: tuple[Side, ...] = ("server", "client")
"""Both hosts, the server first."""

Direction = Literal["to_server", "to_client", "both"]
"""Which packets a drop rule takes: those travelling to the server, to the client, or both."""

FaultKind = Literal["drop", "black_hole", "refuse"]
"""The kinds of fault rule, each in a chain of its own, so that one kind can be cleared alone."""

Rule = tuple[Side, str, int]
"""A fault rule as added: the host it is in, its chain, and its nftables handle."""

CHAINS: dict[FaultKind, str] = {"drop": "drops", "black_hole": "black_holes", "refuse": "refusals"}
"""The nftables chain of each kind of fault rule, in the order a packet meets them."""

TABLE = "txpoetry_faults"
"""The name of the nftables table (family C{inet}) the pair makes in each of its namespaces."""

PREFIX = "txpoetry-"
"""How the names of every namespace this module makes begin."""

NETNS_DIRECTORY = "/var/run/netns"
"""Where C{ip netns} keeps a file for each named namespace."""

CLONE_NEWNET = 0x40000000
"""The C{setns(2)} flag for a network namespace (Python 3.11 has no C{os.setns})."""

_counter = itertools.count(1)
_networks = itertools.count()
_first_network = random.getrandbits(22)
_name_pattern = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")


class NamespacesUnavailable(Exception):  # noqa: N818 (reads as the skip reason it carries)
    """Network namespaces cannot be made here; the message says why (for a test's C{skip})."""


def _tool(name: str) -> str | None:
    """Return the path of the command ``name``, looked for on C{PATH} and in the sbin folders."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


def _run(argv: list[str], stdin: str | None = None) -> str:
    """Run ``argv`` to its end and return its output; raise L{NamespacesUnavailable} on failure."""
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        raise NamespacesUnavailable(f"{' '.join(argv)}: {error}") from error
    if done.returncode != 0:
        message = done.stderr.strip() or f"exit status {done.returncode}"
        raise NamespacesUnavailable(f"{' '.join(argv)}: {message}")
    return done.stdout


def _missing() -> str | None:
    """Say what this machine lacks for network namespaces (before trying to make one), or None."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces need Linux, not {sys.platform}"
    if os.geteuid() != 0:
        return "network namespaces need root (this process is not root)"
    if _tool("ip") is None:
        return "the ip command (iproute2) is missing"
    if _tool("nft") is None:
        return "the nft command (nftables) is missing: apt-get install nftables"
    return None


def namespaces_unavailable() -> str | None:
    """Return why a L{NamespacePair} cannot be made here, or C{None} if it can.

    Checks Linux, root, C{ip} and C{nft}, then makes and destroys one pair
    (once per process; the answer is remembered), which also removes the
    namespaces of processes of this module that died without cleaning up.
    """
    return _missing() or _probe()


@functools.cache
def _probe() -> str | None:
    """Make and destroy one pair; return why that failed, or None."""
    remove_stale_namespaces()
    try:
        NamespacePair().destroy()
    except NamespacesUnavailable as error:
        return f"network namespaces cannot be made here: {error}"
    return None


def remove_stale_namespaces() -> list[str]:
    """Delete this module's namespaces whose process is gone (one killed before it cleaned up).

    Returns the names deleted. Only names this module makes are touched, and
    only those whose process id is no longer alive.
    """
    try:
        names = os.listdir(NETNS_DIRECTORY)
    except OSError:
        return []
    stale = []
    for name in names:
        match = _name_pattern.match(name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(NamespacesUnavailable):
                _run([_ip(), "netns", "delete", name])
                stale.append(name)
    return stale


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists."""
    return os.path.exists(f"/proc/{pid}")


def _ip() -> str:
    """The path of the C{ip} command."""
    return _tool("ip") or "ip"


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    """Move the calling thread into the network namespace open as ``fd``."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


class NamespacePair:
    """A server host and a client host: two network namespaces joined by a veth pair.

    Made at once, synchronously, by the constructor (which raises
    L{NamespacesUnavailable} if it cannot, having removed what it made); gone
    after L{destroy}, which a C{with} block, C{addCleanup(pair.destroy)} or
    the end of the process calls. The server's end has L{server_address},
    the client's L{client_address}, on a C{/30} network of its own; each
    namespace's interface is called C{veth-server} or C{veth-client}.

    @ivar server_address: The server host's IPv4 address.
    @ivar client_address: The client host's IPv4 address.
    @ivar names: The namespace name of each side.
    @ivar addresses: The address of each side.
    """

    server_address: str
    client_address: str
    names: dict[Side, str]
    addresses: dict[Side, str]

    def __init__(self, sysctls: Mapping[str, int] | None = None) -> None:
        """Make the two namespaces, the veth pair between them and the fault tables.

        ``sysctls`` (C{{"net.ipv4.tcp_fin_timeout": 2}}) are set in both
        namespaces, and go with them: only a network namespace's own
        (C{net.*}) are taken, so that the host's are never touched.
        """
        self.sysctls = dict(sysctls or {})
        """The sysctls set in both namespaces."""
        for name in self.sysctls:
            if not name.startswith("net."):
                raise ValueError(f"{name} is not a network namespace's own sysctl (net.*)")
        missing = _missing()
        if missing is not None:
            raise NamespacesUnavailable(missing)
        tag = f"{os.getpid()}-{next(_counter)}-{random.getrandbits(24):06x}"
        self.names = {side: f"{PREFIX}{tag}-{side}" for side in SIDES}
        # A /30 of its own in 10.0.0.0/8, another for each pair of the process: a socket of
        # one pair aimed at another pair's address fails rather than reaching the wrong host.
        index = (_first_network + next(_networks)) % (1 << 22)
        network = ipaddress.IPv4Network((10 << 24 | index << 2, 30))
        self.server_address, self.client_address = (str(host) for host in network.hosts())
        self.addresses = {"server": self.server_address, "client": self.client_address}
        self._undo: list[Callable[[], object]] = []
        atexit.register(self.destroy)
        try:
            self._build()
        except BaseException:
            self.destroy()
            raise

    def _build(self) -> None:
        """Make each piece, remembering how to remove it."""
        ip = _ip()
        for name in self.names.values():
            _run([ip, "netns", "add", name])
            self._undo.append(functools.partial(_run, [ip, "netns", "delete", name]))
        server, client = self.names["server"], self.names["client"]
        _run(
            [ip, "link", "add", "veth-server", "netns", server]
            + ["type", "veth", "peer", "name", "veth-client", "netns", client]
        )
        self._undo.append(functools.partial(_run, [ip, "-n", server, "link", "del", "veth-server"]))
        for side in SIDES:
            name, address = self.names[side], self.addresses[side]
            _run([ip, "-n", name, "address", "add", f"{address}/30", "dev", f"veth-{side}"])
            _run([ip, "-n", name, "link", "set", f"veth-{side}", "up"])
            _run([ip, "-n", name, "link", "set", "lo", "up"])
            self._nft(side, _table_definition())
            self._undo.append(functools.partial(self._nft, side, f"delete table inet {TABLE}\n"))
            for setting, value in self.sysctls.items():
                self.run(side, _tool("sysctl") or "sysctl", "-q", "-w", f"{setting}={value}")

    def __enter__(self) -> NamespacePair:
        """Use the pair in a C{with} block, which destroys it at its end."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Destroy the pair."""
        self.destroy()

    def destroy(self) -> None:
        """Remove the fault tables, the veth pair and both namespaces; again does nothing.

        Sockets still open in a namespace keep it alive, unnamed and out of
        reach, until they close. Every removal is tried even if one fails.
        """
        atexit.unregister(self.destroy)
        while self._undo:
            with contextlib.suppress(NamespacesUnavailable):
                self._undo.pop()()

    @contextlib.contextmanager
    def inside(self, side: Side) -> Iterator[None]:
        """Run the C{with} block with the calling thread in the ``side`` host's namespace.

        Sockets made in the block (C{listenTCP}, C{connectTCP}, C{socket.socket},
        and processes started in it) belong to that host for good. The thread
        returns to the namespace it was in when the block ends, error or not.
        Do not give control to the reactor inside the block: it would run there.
        """
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(os.path.join(NETNS_DIRECTORY, self.names[side]), os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield
            finally:
                _setns(home)
        finally:
            os.close(home)

    def run(self, side: Side, *argv: str, stdin: str | None = None) -> str:
        """Run a command in the ``side`` host's namespace (C{ip netns exec}); return its output.

        For example C{pair.run("client", "ss", "-tni")}. Raises
        L{NamespacesUnavailable} with the command's error if it fails.
        """
        return _run([_ip(), "netns", "exec", self.names[side], *argv], stdin=stdin)

    def drop(
        self, direction: Direction, port: int | None = None, server_port: int | None = None
    ) -> list[Rule]:
        """Drop the packets travelling in ``direction``, until L{clear} or L{remove}.

        Without a port, every packet between the two hosts that way: a
        partition, one way or both. With ``port``, only the packets of the TCP
        connection(s) whose client-side port is ``port``: one connection held.
        With ``server_port``, only those of connections to that server port: a
        partition that spares the other services on the pair. A dropped packet
        is lost on arrival, so its sender retransmits it. Returns the rules
        added, for L{remove}.
        """
        to_server = direction in ("to_server", "both")
        to_client = direction in ("to_client", "both")
        rules = []
        if to_server:
            match = "" if port is None else f"tcp sport {port} "
            match += "" if server_port is None else f"tcp dport {server_port} "
            rules.append(self._add("server", "drop", f"ip saddr {self.client_address} {match}drop"))
        if to_client:
            match = "" if port is None else f"tcp dport {port} "
            match += "" if server_port is None else f"tcp sport {server_port} "
            rules.append(self._add("client", "drop", f"ip saddr {self.server_address} {match}drop"))
        return rules

    def black_hole(self, port: int) -> list[Rule]:
        """Leave new connection attempts to the server's ``port`` unanswered, until removed.

        Only SYNs without ACK are dropped: established connections go on.
        """
        return [self._add("server", "black_hole", f"{self._syn_to(port)} drop")]

    def refuse(self, port: int) -> list[Rule]:
        """Answer new connection attempts to the server's ``port`` with a TCP reset, until removed.

        As a host with no listener there does; established connections go on.
        """
        return [self._add("server", "refuse", f"{self._syn_to(port)} reject with tcp reset")]

    def remove(self, rules: list[Rule]) -> None:
        """Remove the ``rules`` that L{drop}, L{black_hole} or L{refuse} added (and only those)."""
        for side, chain, handle in rules:
            self._nft(side, f"delete rule inet {TABLE} {chain} handle {handle}\n")

    def clear(self, kind: FaultKind | None = None) -> None:
        """Remove every fault rule, or only those of one ``kind``: a heal, release or restore."""
        chains = CHAINS.values() if kind is None else [CHAINS[kind]]
        script = "".join(f"flush chain inet {TABLE} {chain}\n" for chain in chains)
        for side in SIDES:
            self._nft(side, script)

    def rules(self, side: Side) -> str:
        """Return the pair's nftables table in the ``side`` host as C{nft list} prints it."""
        return self.run(side, _tool("nft") or "nft", "list", "table", "inet", TABLE)

    def _syn_to(self, port: int) -> str:
        """The nftables match of a connection attempt from the client to the server's ``port``."""
        return f"ip saddr {self.client_address} tcp dport {port} tcp flags & (syn | ack) == syn"

    def _add(self, side: Side, kind: FaultKind, rule: str) -> Rule:
        """Add ``rule`` to the ``kind`` chain in the ``side`` host; return it, with its handle."""
        chain = CHAINS[kind]
        echoed = self.run(
            side,
            _tool("nft") or "nft",
            "--echo",
            "--handle",
            "-f",
            "-",
            stdin=f"add rule inet {TABLE} {chain} {rule}\n",
        )
        handle = re.search(r"# handle (\d+)", echoed)
        if handle is None:
            raise NamespacesUnavailable(f"nft gave no handle for the rule {rule!r}: {echoed!r}")
        return side, chain, int(handle.group(1))

    def _nft(self, side: Side, script: str) -> None:
        """Apply an nftables ``script`` in the ``side`` host (C{nft -f -})."""
        self.run(side, _tool("nft") or "nft", "-f", "-", stdin=script)


def _table_definition() -> str:
    """The nftables script that makes the fault table: a chain per kind, met on input."""
    chains = "".join(f"  chain {chain} {{\n  }}\n" for chain in CHAINS.values())
    jumps = "".join(f"    jump {chain}\n" for chain in CHAINS.values())
    return (
        f"table inet {TABLE} {{\n{chains}"
        "  chain input {\n    type filter hook input priority filter; policy accept;\n"
        f"{jumps}  }}\n}}\n"
    )
