"""txpoetry: Twisted poetry services with a deterministic test suite.

The package is built in layers, each importing only from those below it: the
entry points (L{poetry.cli} and L{poetry.commands}, L{poetry.twistd}), the
operations layer (L{poetry.operations}), the tutorial core (L{poetry.core}).
L{poetry.testing} is the in-memory network for tests. The names here are the
core's most used ones.
"""

from poetry.core.client import get_poetry
from poetry.core.errors import EmptyPoemError, PartialPoemError, PoemError, PoemTooLargeError
from poetry.core.server import PoetryServerFactory

__all__ = [
    "EmptyPoemError",
    "PartialPoemError",
    "PoemError",
    "PoemTooLargeError",
    "PoetryServerFactory",
    "get_poetry",
]
