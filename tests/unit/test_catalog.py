"""Tests for L{poetry.core.catalog}: the bundled poems."""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from poetry.core.catalog import bundled_names, load_poem
from poetry.core.errors import UsageError


class CatalogTests(SynchronousTestCase):
    """Poems are found by short name or by path."""

    def test_at_least_three_bundled(self) -> None:
        """At least three poems are bundled, among them Donne's The Ecstasy."""
        names = bundled_names()
        self.assertGreaterEqual(len(names), 3)
        self.assertIn("ecstasy", names)

    def test_load_by_name(self) -> None:
        """A short name loads the bundled poem's bytes."""
        self.assertTrue(load_poem("ecstasy").startswith(b"The Ecstasy\nJohn Donne\n"))

    def test_load_by_path(self) -> None:
        """A file path loads that file's bytes."""
        path = Path(self.mktemp())
        path.write_bytes(b"a poem\n")
        self.assertEqual(load_poem(str(path)), b"a poem\n")

    def test_unknown_poem(self) -> None:
        """A name that is neither bundled nor a file is a usage error that lists the poems."""
        error = self.assertRaises(UsageError, load_poem, "no-such-poem")
        self.assertIn("no-such-poem", str(error))
        self.assertIn("ecstasy", str(error))

    def test_directory(self) -> None:
        """A directory is not a poem: a usage error."""
        path = Path(self.mktemp())
        path.mkdir()
        error = self.assertRaises(UsageError, load_poem, str(path))
        self.assertIn("not a regular file", str(error))

    def test_device(self) -> None:
        """A device such as C{/dev/zero} (endless) is refused without being read."""
        error = self.assertRaises(UsageError, load_poem, "/dev/zero")
        self.assertIn("not a regular file", str(error))

    def test_empty_file(self) -> None:
        """An empty file is no poem: a usage error, since clients would take it for a failure."""
        path = Path(self.mktemp())
        path.write_bytes(b"")
        error = self.assertRaises(UsageError, load_poem, str(path))
        self.assertEqual(str(error), f"empty poem file: {str(path)!r}")
