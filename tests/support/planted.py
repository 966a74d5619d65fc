"""A bug planted in txpoetry's client, for the explorer's own tests: it must be found.

The client takes any end of the connection as the end of the poem, so a
reset mid-poem is reported as a whole poem: the explorer's integrity
invariant breaks at once.
"""

from __future__ import annotations

from twisted.python.failure import Failure
from twisted.python.monkey import MonkeyPatcher
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import PoetryClientProtocol


def _any_end_is_the_poem(self: PoetryClientProtocol, reason: Failure) -> None:
    if not self.poem.called:
        self.poem.callback(b"".join(self._chunks))


def plant(case: SynchronousTestCase) -> MonkeyPatcher:
    """Plant the bug for the rest of ``case``'s test (or until the patch returned is undone)."""
    return case.patch(PoetryClientProtocol, "connectionLost", _any_end_is_the_poem)
