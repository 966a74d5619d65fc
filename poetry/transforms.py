"""Poem transforms: pure functions from poem bytes to poem bytes, registered by name.

Poems are bytes and need not be valid UTF-8: each transform decodes with
``surrogateescape``, so bytes that are not UTF-8 pass through unchanged and
never make a transform fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Transform = Callable[[bytes], bytes]
"""A transform: the poem's bytes in, the transformed poem's bytes out."""


def on_text(function: Callable[[str], str]) -> Transform:
    """Make a transform of bytes from a function of text."""

    def transform(poem: bytes) -> bytes:
        text = poem.decode("utf-8", "surrogateescape")
        return function(text).encode("utf-8", "surrogateescape")

    transform.__doc__ = function.__doc__
    return transform


def _cummingsify(text: str) -> str:
    """Lower-case the whole poem, as e. e. cummings would."""
    return text.lower()


def _shout(text: str) -> str:
    """Upper-case the whole poem."""
    return text.upper()


def _title_case(text: str) -> str:
    """Capitalize every word."""
    return text.title()


def _reverse_lines(text: str) -> str:
    """Put the lines in reverse order."""
    return "".join(reversed(text.splitlines(keepends=True)))


TRANSFORMS: Mapping[str, Transform] = {
    "cummingsify": on_text(_cummingsify),
    "shout": on_text(_shout),
    "title-case": on_text(_title_case),
    "reverse-lines": on_text(_reverse_lines),
}
"""Every transform, by the name a client asks for it with."""
