"""Errors raised by txpoetry's clients and command-line handling."""

from __future__ import annotations

from twisted.python.failure import Failure


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
