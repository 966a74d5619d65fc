"""Tests for L{poetry.core.transforms}: pure, total functions on poem bytes."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

import tests.support.properties  # noqa: F401  (selects the hypothesis profile)
from poetry.core.transforms import TRANSFORMS


class TransformTests(SynchronousTestCase):
    """Each transform does what its name says."""

    def test_cummingsify(self) -> None:
        """C{cummingsify} lower-cases the poem."""
        self.assertEqual(TRANSFORMS["cummingsify"](b"Tyger Tyger\n"), b"tyger tyger\n")

    def test_shout(self) -> None:
        """C{shout} upper-cases the poem."""
        self.assertEqual(TRANSFORMS["shout"](b"Tyger\n"), b"TYGER\n")

    def test_title_case(self) -> None:
        """C{title-case} capitalizes every word."""
        self.assertEqual(TRANSFORMS["title-case"](b"burning bright\n"), b"Burning Bright\n")

    def test_title_case_first_letter_only(self) -> None:
        """C{title-case} leaves the letters after a word's first as they were."""
        self.assertEqual(
            TRANSFORMS["title-case"](b"swell'd violet's to'intergraft DNA"),
            b"Swell'd Violet's To'intergraft DNA",
        )

    def test_title_case_after_marks(self) -> None:
        """C{title-case} capitalizes a word's first letter even behind a quote or bracket."""
        self.assertEqual(TRANSFORMS["title-case"](b'"tyger (burning 2nd'), b'"Tyger (Burning 2nd')

    def test_title_case_invalid_utf8(self) -> None:
        """Bytes that are not UTF-8 pass through C{title-case} unchanged."""
        self.assertEqual(TRANSFORMS["title-case"](b"\xffab cd\xfe"), b"\xffAb Cd\xfe")

    def test_reverse_lines(self) -> None:
        """C{reverse-lines} reverses the order of the lines, keeping the final line break."""
        self.assertEqual(TRANSFORMS["reverse-lines"](b"one\ntwo\nthree\n"), b"three\ntwo\none\n")

    def test_reverse_lines_without_final_break(self) -> None:
        """A poem without a final line break comes out without one, its lines kept apart."""
        self.assertEqual(TRANSFORMS["reverse-lines"](b"a\nb\nc"), b"c\nb\na")

    def test_reverse_lines_crlf(self) -> None:
        """CR LF line breaks stay whole and in place."""
        self.assertEqual(TRANSFORMS["reverse-lines"](b"a\r\nb\r\nc"), b"c\r\nb\r\na")

    def test_reverse_lines_blank_lines(self) -> None:
        """Blank lines are lines too, and empty poems stay empty."""
        self.assertEqual(TRANSFORMS["reverse-lines"](b"a\n\nb\n"), b"b\n\na\n")
        self.assertEqual(TRANSFORMS["reverse-lines"](b"\n"), b"\n")
        self.assertEqual(TRANSFORMS["reverse-lines"](b""), b"")

    def test_reverse_lines_invalid_utf8(self) -> None:
        """Bytes that are not UTF-8 stay on their own line."""
        self.assertEqual(TRANSFORMS["reverse-lines"](b"a\xff\nb"), b"b\na\xff")

    def test_multibyte_text(self) -> None:
        """Characters beyond ASCII are transformed as characters, not bytes."""
        self.assertEqual(TRANSFORMS["shout"]("ÆTHER ß".lower().encode()), "ÆTHER SS".encode())

    def test_invalid_utf8_passes_through(self) -> None:
        """Bytes that are not UTF-8 come out unchanged while the text around them changes."""
        self.assertEqual(TRANSFORMS["shout"](b"ab\xff\xfecd"), b"AB\xff\xfeCD")

    @given(st.binary(max_size=300), st.sampled_from(sorted(TRANSFORMS)))
    def test_any_bytes_accepted(self, poem: bytes, name: str) -> None:
        """Every transform accepts any bytes and returns bytes."""
        self.assertIsInstance(TRANSFORMS[name](poem), bytes)


LINEY_POEMS = st.binary(max_size=100) | st.lists(
    st.sampled_from([b"a", b"b", b" ", b"\n", b"\r", b"\r\n", b"\xff", b"\xc3"]), max_size=30
).map(b"".join)
"""Poems of any bytes, and poems thick with line breaks and bytes that are not UTF-8."""


def capitalized(word: str) -> str:
    """Return ``word`` with its first letter upper-cased and the rest untouched."""
    for index, letter in enumerate(word):
        if letter.isalpha():
            return word[:index] + letter.upper() + word[index + 1 :]
    return word


def starts_blank_without_final_break(poem: bytes) -> bool:
    """Tell whether ``poem`` starts with a blank line and has no final line break."""
    return poem.startswith((b"\n", b"\r\n")) and not poem.endswith(b"\n")


class TransformPropertyTests(SynchronousTestCase):
    """Properties that hold for every poem."""

    @given(LINEY_POEMS)
    def test_reverse_lines_twice_is_the_poem(self, poem: bytes) -> None:
        """Reversing the lines twice gives the poem back, byte for byte.

        Two kinds of poem are exceptions, each noted in C{_reverse_lines}: one
        with a line ending in a bare CR, and one starting with a blank line with
        no final break.
        """
        assume(not re.search(rb"\r(?=\r\n|\Z)", poem))
        assume(not starts_blank_without_final_break(poem))
        reverse = TRANSFORMS["reverse-lines"]
        self.assertEqual(reverse(reverse(poem)), poem)

    @given(LINEY_POEMS)
    def test_reverse_lines_keeps_final_break(self, poem: bytes) -> None:
        """The reversed poem ends with a line break if, and only if, the poem did."""
        assume(not starts_blank_without_final_break(poem))
        self.assertEqual(TRANSFORMS["reverse-lines"](poem).endswith(b"\n"), poem.endswith(b"\n"))

    @given(st.text(alphabet="abzéABZ'- \n\t", max_size=60))
    def test_title_case_changes_first_letters_only(self, text: str) -> None:
        """Title case upper-cases each word's first letter and changes nothing else."""
        result = TRANSFORMS["title-case"](text.encode()).decode()
        self.assertEqual(result.split(), [capitalized(word) for word in text.split()])
        self.assertEqual(
            [len(line) for line in result.split("\n")], [len(line) for line in text.split("\n")]
        )
