"""txpoetry: Twisted poetry services with a deterministic test suite."""

from poetry.client import get_poetry
from poetry.errors import PartialPoemError, PoemError, PoemTooLargeError
from poetry.server import PoetryServerFactory

__all__ = [
    "PartialPoemError",
    "PoemError",
    "PoemTooLargeError",
    "PoetryServerFactory",
    "get_poetry",
]
