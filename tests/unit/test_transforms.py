"""Tests for L{poetry.transforms}: pure, total functions on poem bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

import tests.support.properties  # noqa: F401  (selects the hypothesis profile)
from poetry.transforms import TRANSFORMS


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

    def test_reverse_lines(self) -> None:
        """C{reverse-lines} reverses the order of the lines, keeping their ends."""
        self.assertEqual(TRANSFORMS["reverse-lines"](b"one\ntwo\nthree"), b"threetwo\none\n")

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
