"""Errors raised by txpoetry's clients and command-line handling."""

from __future__ import annotations

from twisted.internet.defer import TimeoutError
from twisted.python.failure import Failure


def describe_failure(failure: Failure) -> str:
    """Return a one-line reason for a failed fetch (a timeout says how long it waited)."""
    if isinstance(failure.value, TimeoutError):
        return f"timed out after {failure.value.args[0]} seconds"
    return failure.getErrorMessage()


class PoemError(Exception):
    """Base class for a poem that could not be fetched whole."""


class PartialPoemError(PoemError):
    """The connection was lost before the server closed it cleanly.

    The bytes received so far are kept in ``partial``; they are not a poem.
    """

    def __init__(self, partial: bytes, reason: Failure) -> None:
        super().__init__(partial, reason)
        self.partial = partial
        self.reason = reason

    def __str__(self) -> str:
        """Describe the loss and how much had arrived."""
        cause = self.reason.getErrorMessage()
        return f"connection lost after {len(self.partial)} bytes: {cause}"


class EmptyPoemError(PoemError):
    """The server closed the connection cleanly without sending a single byte.

    A clean close is the protocol's only "the poem is complete" signal, so an
    empty poem is never a poem: it is what a server that refused the
    connection, or ran out of file descriptors, looks like.
    """

    def __str__(self) -> str:
        """Say what happened."""
        return "closed without sending a poem"


class PoemTooLargeError(PoemError):
    """The server sent more bytes than the client's limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit

    def __str__(self) -> str:
        """Name the limit that was exceeded."""
        return f"poem exceeds the limit of {self.limit} bytes"


class UsageError(ValueError):
    """A command-line argument that cannot be used (reported in one line, exit 2)."""


class TransformError(Exception):
    """The transform service could not transform the poem; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        """Give the reason."""
        return self.reason
