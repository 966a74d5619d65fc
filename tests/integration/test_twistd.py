"""The txpoetry services run under ``twistd`` as real child processes."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from poetry.core.catalog import load_poem
from poetry.core.client import get_poetry
from tests.support.processes import CommandProcess, spawn_twistd


class TwistdPluginTests(TestCase):
    """The plugins are found by twistd and serve like the command line does."""

    timeout = 60

    def twistd(self, *args: str) -> CommandProcess:
        """Start twistd; make sure it is stopped and reaped when the test ends."""
        process = spawn_twistd(reactor, *args)
        self.addCleanup(process.stop)
        return process

    async def test_help_lists_plugins(self) -> None:
        """C{twistd --help} lists the three plugins."""
        process = self.twistd("--help")
        self.assertEqual(await process.ended, 0)
        for name in ("poetry", "poetry-transform", "poetry-proxy"):
            self.assertRegex(process.out.decode(), rf"\n\s+{name}\s")

    async def test_serves_poem(self) -> None:
        """C{twistd -n poetry} serves the chosen poem and shuts down cleanly on SIGTERM.

        twistd ends by re-raising the signal it was stopped with (so its parent
        sees "killed by SIGTERM", the Unix convention), after a clean shutdown.
        """
        server = self.twistd("poetry", "--listen", "tcp:0", "sonnet18")
        match = await server.line_matching(rb"listening on 127\.0\.0\.1:(\d+)$")
        self.assertIsNotNone(match, server.out)
        assert match is not None
        poem = await get_poetry(reactor, "127.0.0.1", int(match.group(1)), timeout=10)
        self.assertEqual(poem, load_poem("sonnet18"))
        self.assertEqual(await server.stop(), -15, server.out)
        self.assertIn(b"Server Shut Down.", server.out)

    async def test_bad_poem(self) -> None:
        """An unknown poem stops twistd with status 2 and one error line."""
        server = self.twistd("poetry", "no-such-poem")
        self.assertEqual(await server.ended, 2)
        self.assertIn(b"no such poem", server.err)

    async def test_bad_endpoint(self) -> None:
        """An endpoint that cannot be listened on stops twistd with status 2 and one line."""
        endpoints = ["bogus:x", "tcp:0:interface=foo", "tcp:99999"]
        servers = [self.twistd("poetry", "--listen", endpoint) for endpoint in endpoints]  # at once
        for server in servers:
            self.assertEqual(await server.ended, 2, server.out + server.err)
            [line] = server.err.decode().splitlines()
            self.assertIn("bad endpoint", line)
