"""Tests for ``tests/support``: the suite's own fakes provide what they claim."""

from __future__ import annotations

from twisted.internet.interfaces import IListeningPort, IStreamServerEndpoint
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from tests.support import FakeServerEndpoint


class FakeTests(SynchronousTestCase):
    """The fakes are verified against the interfaces they claim."""

    def test_fake_endpoint_and_port(self) -> None:
        """The fake endpoint is a server endpoint; its port is a listening port."""
        endpoint = FakeServerEndpoint()
        self.assertTrue(verifyObject(IStreamServerEndpoint, endpoint))
        self.assertTrue(verifyObject(IListeningPort, endpoint.port))
