"""The ``txpoetry`` command line as real child processes."""

from __future__ import annotations

import sys

from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.trial.unittest import TestCase

from poetry.core.catalog import load_poem
from tests.support.processes import CommandProcess, spawn, spawn_txpoetry
from tests.support.sockets import refusing_port


class CommandLineTests(TestCase):
    """Real ``serve`` and ``get`` processes talk over loopback."""

    timeout = 60

    def spawn(self, *args: str) -> CommandProcess:
        """Start a command; make sure it is stopped and reaped when the test ends."""
        process = spawn_txpoetry(reactor, *args)
        self.addCleanup(process.stop)
        return process

    async def serve(self, *args: str, command: str = "serve") -> tuple[CommandProcess, str]:
        """Start ``COMMAND --listen tcp:0 ARGS``; return it and its announced port."""
        server = self.spawn(command, "--listen", "tcp:0", *args)
        match = await server.line_matching(rb"^listening on 127\.0\.0\.1:(\d+)$")
        self.assertIsNotNone(match, server.err)
        assert match is not None
        return server, match.group(1).decode()

    async def test_serve_get_and_stop(self) -> None:
        """A served poem is fetched byte for byte; SIGTERM then stops the server with status 0."""
        server, port = await self.serve("tyger")
        client = self.spawn("get", port, f"127.0.0.1:{port}")
        self.assertEqual(await client.ended, 0, client.err)
        self.assertEqual(client.out, load_poem("tyger") * 2)
        self.assertEqual(await server.stop(), 0, server.err)

    async def test_slow_serve_finishes_poem_after_sigterm(self) -> None:
        """A poem in flight when a slow server gets SIGTERM still arrives whole; status 0."""
        server, port = await self.serve("tyger", "--chunk-bytes", "400", "--delay", "0.1")
        client = self.spawn("get", port)
        await client.line_matching(rb": \d+ bytes$", stderr=True)  # the first chunk is in
        stopped = server.stop()
        self.assertEqual(await client.ended, 0, client.err)
        self.assertEqual(client.out, load_poem("tyger"))
        self.assertEqual(await stopped, 0, server.err)
        self.assertIn(b"poem served", server.err)

    async def test_proxy_and_transform(self) -> None:
        """A poem fetched through the proxy and transformed by the service is lower-cased."""
        transforming = ensureDeferred(self.serve(command="transform"))  # meanwhile, the others
        _, upstream = await self.serve("tyger")
        _, proxy = await self.serve("--upstream", upstream, command="proxy")
        _, transform = await transforming
        client = self.spawn(
            "get", "--quiet", proxy, "--transform", "cummingsify", "--transform-server", transform
        )
        self.assertEqual(await client.ended, 0, client.err)
        self.assertEqual(client.out, load_poem("tyger").lower())

    async def test_sigint_stops_with_status_0(self) -> None:
        """SIGINT (Ctrl-C) stops a server as SIGTERM does, with status 0."""
        server, _ = await self.serve()
        server.transport.signalProcess("INT")
        self.assertEqual(await server.ended, 0, server.err)

    async def test_get_interrupted(self) -> None:
        """Ctrl-C during C{get} reports the fetch as interrupted, not as the server's fault."""
        _, port = await self.serve("tyger", "--chunk-bytes", "10", "--delay", "0.1")
        client = self.spawn("get", port)
        await client.line_matching(rb": \d+ bytes$", stderr=True)  # the first chunk is in
        client.transport.signalProcess("INT")
        self.assertEqual(await client.ended, 1, client.err)
        self.assertEqual(client.out, b"")
        self.assertEqual(client.err.decode().splitlines()[-1], f"127.0.0.1:{port}: interrupted")
        self.assertNotIn(b"non-clean", client.err)

    async def test_get_refused(self) -> None:
        """A fetch from a port with no server exits 1 with one line on stderr."""
        port = str(refusing_port(self.addCleanup))
        client = self.spawn("get", "--quiet", port)
        self.assertEqual(await client.ended, 1)
        self.assertEqual(client.out, b"")
        [line] = client.err.decode().splitlines()
        self.assertIn(f"127.0.0.1:{port}:", line)

    async def test_unknown_poem(self) -> None:
        """An unknown poem exits 2 with one line on stderr and no traceback."""
        server = self.spawn("serve", "no-such-poem", "--listen", "tcp:0")
        self.assertEqual(await server.ended, 2)
        self.assertEqual(server.out, b"")
        [line] = server.err.decode().splitlines()
        self.assertIn("no such poem", line)

    async def test_proxy_of_itself(self) -> None:
        """A proxy told to fetch from its own address exits 2 with one line, listening nowhere."""
        proxy = self.spawn("proxy", "--listen", "tcp:10002", "--upstream", "localhost:10002")
        self.assertEqual(await proxy.ended, 2)
        self.assertEqual(proxy.out, b"")
        [line] = proxy.err.decode().splitlines()
        self.assertIn("is where this proxy listens", line)

    async def test_plain_ipv6_interface(self) -> None:
        """C{--listen tcp:0:interface=::1} serves on IPv6 loopback, fetched as [::1]:PORT."""
        server = self.spawn("serve", "tyger", "--listen", "tcp:0:interface=::1")
        match = await server.line_matching(rb"^listening on \[::1\]:(\d+)$")
        self.assertIsNotNone(match, server.err)
        assert match is not None
        client = self.spawn("get", "--quiet", f"[::1]:{match.group(1).decode()}")
        self.assertEqual(await client.ended, 0, client.err)
        self.assertEqual(client.out, load_poem("tyger"))

    async def test_bad_interface(self) -> None:
        """An interface that is not an IP address exits 2 with one line on stderr."""
        server = self.spawn("serve", "--listen", "tcp:0:interface=foo")
        self.assertEqual(await server.ended, 2)
        [line] = server.err.decode().splitlines()
        self.assertIn("txpoetry serve: error: bad endpoint", line)

    async def test_reader_gone(self) -> None:
        """When the reader of stdout goes away, the command ends quietly with status 1."""
        poems = self.spawn("poems")
        poems.transport.closeStdout()
        self.assertEqual(await poems.ended, 1)
        self.assertEqual(poems.err, b"")

    async def test_stdout_closed(self) -> None:
        """With stdout closed, C{get}, C{serve} and C{poems} exit 2 with one line, no traceback."""
        commands = [["get", "1"], ["serve", "--listen", "tcp:0"], ["poems"]]
        processes = []
        for args in commands:  # all at once
            command = 'exec "$0" -m poetry "$@" >&-'
            processes.append(spawn(reactor, ["/bin/sh", "-c", command, sys.executable, *args]))
            self.addCleanup(processes[-1].stop)
        for args, process in zip(commands, processes, strict=True):
            self.assertEqual(await process.ended, 2, process.err)
            [line] = process.err.decode().splitlines()
            self.assertIn(f"txpoetry {args[0]}: error: standard output is closed", line)

    async def test_demo(self) -> None:
        """The demo runs every service by itself, finds each as expected, and exits 0."""
        demo = self.spawn("demo")
        self.assertEqual(await demo.ended, 0, demo.err)
        self.assertEqual(demo.out.count(b"as expected"), 5, demo.out)
