"""The pytest plugin as a pytest user meets it: txpoetry installed, tests taking C{poetry_network}.

The user's test modules below are written into an empty folder and run by
pytest in a process of its own, which finds the plugin by its C{pytest11}
entry point, as in a user's project (nothing names it on the command line);
pytest's JUnit XML report says how each test ended. One run serves every
test here.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from tests.support.processes import WITHOUT_HYPOTHESIS, spawn

USER_TESTS = '''\
"""A pytest user's tests on the simulated network."""

import pytest
from twisted.internet.protocol import ClientFactory, Factory, Protocol

from poetry import PoetryServerFactory, get_poetry
from poetry.testing import KernelSettings

networks = []


@pytest.fixture
def timer(poetry_network):
    call = poetry_network.reactor.callLater(5, lambda: None)
    yield call
    call.cancel()


def test_clean(poetry_network):
    poetry_network.serve("127.0.0.1", 10000, PoetryServerFactory(b"a poem"))
    poem = get_poetry(poetry_network.reactor, "127.0.0.1", 10000, timeout=5)
    poetry_network.flush()
    got = []
    poem.addCallback(got.append)
    assert got == [b"a poem"]
    assert poetry_network.settings == KernelSettings()
    networks.append(poetry_network)


def test_fresh(poetry_network):
    assert networks and poetry_network is not networks[0]


def test_open_connection(poetry_network):
    poetry_network.serve("127.0.0.1", 10000, Factory.forProtocol(Protocol))
    poetry_network.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Protocol))
    poetry_network.flush()


def test_pending_timer(poetry_network):
    poetry_network.reactor.callLater(5, lambda: None)


def test_timer_of_a_fixture(timer):
    assert timer.active()
'''
"""A module of a pytest user's tests: three leave nothing, two leave something."""

USER_SETTINGS = '''\
"""A pytest user's module that gives the network's kernels settings of its own."""

import pytest

from poetry.testing import KernelSettings

SMALL = KernelSettings(receive_buffer=25, send_buffer=25)


@pytest.fixture
def poetry_kernel_settings():
    return SMALL


def test_settings(poetry_network):
    assert poetry_network.settings is SMALL
'''
"""A module overriding C{poetry_kernel_settings}."""

Outcome = tuple[str, str]
"""How a test ended (C{"passed"}, C{"error"} or C{"failure"}) and what pytest said of it."""


def outcomes(report: Path) -> dict[str, Outcome]:
    """Return how each test in pytest's JUnit XML ``report`` ended, by its name."""
    found = {}
    for case in ElementTree.parse(report).iter("testcase"):
        ends = [e for e in case if e.tag in ("error", "failure")]
        said = " ".join(f"{e.get('message', '')}\n{e.text or ''}" for e in ends)
        found[case.get("name", "")] = (ends[0].tag if ends else "passed", said)
    return found


class PoetryNetworkFixtureTests(TestCase):
    """A pytest test that takes C{poetry_network} gets what a trial test gets from the mixin."""

    timeout = 60
    _report: ClassVar[dict[str, Outcome] | None] = None

    async def report(self) -> dict[str, Outcome]:
        """Run pytest on the user's modules (once for every test here); how each test ended."""
        if PoetryNetworkFixtureTests._report is None:
            plugins = {e.name: e.value for e in entry_points(group="pytest11")}
            self.assertEqual(
                plugins.get("txpoetry"),
                "poetry.testing.pytest_plugin",
                "txpoetry's pytest11 entry point is not installed: pip install -e '.[test]' again",
            )
            project = Path(self.mktemp())
            project.mkdir()
            (project / "pytest.ini").write_text("[pytest]\n")  # the project's root: not ours
            (project / "test_user.py").write_text(USER_TESTS)
            (project / "test_user_settings.py").write_text(USER_SETTINGS)
            argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *WITHOUT_HYPOTHESIS]
            pytest = spawn(reactor, [*argv, "--junitxml=report.xml"], path=str(project))
            self.assertEqual(await pytest.ended, 1, pytest.out + pytest.err)  # errors: status 1
            PoetryNetworkFixtureTests._report = outcomes(project / "report.xml")
        return PoetryNetworkFixtureTests._report

    async def test_clean_test_passes(self) -> None:
        """A test that leaves nothing passes, on a network with Linux's settings."""
        self.assertEqual((await self.report())["test_clean"], ("passed", ""))

    async def test_fresh_network_per_test(self) -> None:
        """Each test gets a network of its own."""
        self.assertEqual((await self.report())["test_fresh"], ("passed", ""))

    async def test_open_connection_fails_at_teardown(self) -> None:
        """A test that leaves a connection open errs at teardown, naming the connection."""
        ended, said = (await self.report())["test_open_connection"]
        self.assertEqual(ended, "error")
        self.assertIn("failed on teardown", said)
        self.assertIn("an open connection from 127.0.0.1:", said)

    async def test_pending_timer_fails_at_teardown(self) -> None:
        """A test that leaves a timer set errs at teardown, naming the timer."""
        ended, said = (await self.report())["test_pending_timer"]
        self.assertEqual(ended, "error")
        self.assertIn("failed on teardown", said)
        self.assertIn("a timer in process 'main'", said)
        self.assertIn("test_pending_timer.<locals>.<lambda>", said)

    async def test_fixtures_torn_down_first(self) -> None:
        """A fixture taking C{poetry_network} is torn down first: what it undoes is not left."""
        self.assertEqual((await self.report())["test_timer_of_a_fixture"], ("passed", ""))

    async def test_settings_fixture_overridden(self) -> None:
        """A module's own C{poetry_kernel_settings} gives the network's kernels their settings."""
        self.assertEqual((await self.report())["test_settings"], ("passed", ""))
