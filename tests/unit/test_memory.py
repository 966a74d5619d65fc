"""What a held slow-server connection costs: nothing shareable is made per connection."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from poetry.slow_server import SlowPoetryFactory
from tests.support import POEM


class SharedPoemViewTests(SynchronousTestCase):
    """The slow server's protocols share one view of the poem (one each cost 300 bytes)."""

    def test_one_view_for_all(self) -> None:
        """Two connections' protocols hold the same view object."""
        factory = SlowPoetryFactory(POEM, 10, 1.0, Clock())
        first, second = factory.buildProtocol(None), factory.buildProtocol(None)
        self.assertIs(first._poem, second._poem)
        self.assertEqual(first._poem.tobytes(), POEM)
