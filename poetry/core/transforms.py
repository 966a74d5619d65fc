"""Poem transforms: pure functions from poem bytes to poem bytes, registered by name.

Poems are bytes and need not be valid UTF-8: each transform decodes with
``surrogateescape``, so bytes that are not UTF-8 pass through unchanged and
never make a transform fail.
"""

from __future__ import annotations

import re
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


_WORD_START = re.compile(r"(?<!\S)([^\w\s]*)(\w)")
"""The start of a whitespace-separated word: any marks before it, then its first letter."""

_LINE_BREAK = re.compile(r"(\r?\n)")
"""A line break: LF, or CR LF."""


def _title_case(text: str) -> str:
    """Capitalize the first letter of each whitespace-separated word, and nothing else.

    The rest of each word is left as it was: "swell'd" becomes "Swell'd" and
    '"tyger' becomes '"Tyger'.
    """
    return _WORD_START.sub(lambda word: word.group(1) + word.group(2).title(), text)


def _reverse_lines(text: str) -> str:
    """Put the lines in reverse order.

    Line breaks (LF or CR LF) stay where they were: the poem ends with a line
    break if, and only if, it did before. Two corners cannot be kept: a poem
    with no final break that starts with a blank line ends with that blank line
    (which looks like a final break), and a line ending in a bare CR (a CR not
    followed by LF) may have that CR join the LF it is moved in front of.
    """
    pieces = _LINE_BREAK.split(text)
    lines, breaks = pieces[0::2], [*pieces[1::2], ""]
    if lines[-1] == "":  # the poem ends with a line break: nothing follows it
        del lines[-1], breaks[-1]
    return "".join(line + end for line, end in zip(reversed(lines), breaks, strict=True))


TRANSFORMS: Mapping[str, Transform] = {
    "cummingsify": on_text(_cummingsify),
    "shout": on_text(_shout),
    "title-case": on_text(_title_case),
    "reverse-lines": on_text(_reverse_lines),
}
"""Every transform, by the name a client asks for it with."""
