"""C{python -m poetry.testing.explore} as a real child process: its jobs, Ctrl-C, bad arguments."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from tests.support.processes import CommandProcess, spawn

MARK = "424242"
"""A seed no other command here uses, to find the command's processes by their arguments."""


def running_with(mark: str) -> list[int]:
    """The processes whose arguments include ``mark`` (the jobs fork with their parent's)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if mark.encode() in arguments and entry.name != str(os.getpid()):
            found.append(int(entry.name))
    return found


class ExploreCommandTests(TestCase):
    """The command's jobs agree with one another, and it ends cleanly however it is stopped."""

    timeout = 120

    def explore(self, *arguments: str) -> CommandProcess:
        """Start the command with ``arguments`` in a process group of its own; stop it at the end.

        As a shell starts it: Ctrl-C there signals the whole group.
        """
        command = [sys.executable, "-m", "poetry.testing.explore", *arguments]
        process = spawn(reactor, [shutil.which("setsid") or "setsid", *command])
        self.addCleanup(process.stop)
        return process

    async def test_same_seed_and_jobs_same_output(self) -> None:
        """Two runs with the same seed and jobs print the same, but for the seconds taken."""
        arguments = ("fast", "proxy", "--plans", "40", "--jobs", "2", "--json")
        first, second = self.explore(*arguments), self.explore(*arguments)
        self.assertEqual((await first.ended, await second.ended), (0, 0), first.err)

        def without_seconds(out: bytes) -> tuple[list[bytes], dict[str, object]]:
            *lines, last = out.splitlines()
            summary = json.loads(last)
            self.assertIsInstance(summary.pop("seconds"), float)
            return lines, summary

        self.assertEqual(without_seconds(first.out), without_seconds(second.out))
        self.assertEqual(json.loads(first.out.splitlines()[-1])["plans"], 80)

    async def test_interrupt_ends_every_job(self) -> None:
        """Ctrl-C mid-search: exit 130, a line saying so, no traceback, no job left running.

        SIGINT goes to the whole process group, the jobs included, as from a terminal.
        """
        process = self.explore("--plans", "100000", "--jobs", "2", "--seed", MARK)
        started = await process.line_matching(rb"^fast: [0-9]+ of 100000 plans$", stderr=True)
        self.assertIsNotNone(started, process.err)
        os.killpg(process.transport.pid, signal.SIGINT)
        self.assertEqual(await process.ended, 130, process.err)
        self.assertEqual(process.out, b"")
        self.assertIn(b"interrupted: no result\n", process.err)
        self.assertNotIn(b"Traceback", process.err)
        self.assertEqual(running_with(MARK), [])

    async def test_usage_error(self) -> None:
        """An unknown scenario exits 2, naming it and the scenarios there are."""
        process = self.explore("nosuch")
        self.assertEqual(await process.ended, 2)
        self.assertIn(b"no such scenario: nosuch (choose from fast, slow,", process.err)
