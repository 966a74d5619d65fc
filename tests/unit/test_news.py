"""Tests for the release notes' sources: news fragments towncrier can read, and the changelog."""

from __future__ import annotations

import re
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

ROOT = Path(__file__).resolve().parents[2]
FRAGMENTS = ROOT / "newsfragments"
TYPES = {"feature", "bugfix", "doc", "removal", "misc"}
"""The kinds of change a fragment may be, as newsfragments/README.md lists them."""


def configured_types() -> set[str]:
    """Return the fragment types configured for towncrier in pyproject.toml.

    (Read as text: C{tomllib} is not in Python 3.10.)
    """
    text = (ROOT / "pyproject.toml").read_text()
    return set(re.findall(r'^\[\[tool\.towncrier\.type\]\]\ndirectory = "(\w+)"$', text, re.M))


class NewsFragmentTests(SynchronousTestCase):
    """Every change's note is a fragment towncrier reads, of a kind the changelog lists."""

    def test_types_are_configured(self) -> None:
        """The fragment types configured for towncrier are exactly the documented ones."""
        self.assertEqual(configured_types(), TYPES)

    def test_fragments_are_well_named(self) -> None:
        """Each fragment is C{ISSUE.TYPE.md} (or C{ISSUE.TYPE.N.md}) with a configured type."""
        name = re.compile(rf"[1-9]\d*\.({'|'.join(sorted(TYPES))})(\.[1-9]\d*)?\.md")
        fragments = [path.name for path in FRAGMENTS.iterdir() if path.name != "README.md"]
        self.assertEqual([f for f in fragments if not name.fullmatch(f)], [])

    def test_fragments_are_one_paragraph(self) -> None:
        """Each fragment says something, in one paragraph (it becomes one item of a list)."""
        for path in FRAGMENTS.glob("*.md"):
            if path.name != "README.md":
                text = path.read_text().strip()
                self.assertTrue(text, path.name)
                self.assertNotIn("\n\n", text, path.name)

    def test_changelog_has_the_insertion_point(self) -> None:
        """CHANGELOG.md has the line below which towncrier writes each release's notes."""
        start = re.search(
            r'^start_string = "(.*)\\n"$', (ROOT / "pyproject.toml").read_text(), re.M
        )
        assert start is not None
        self.assertIn(start[1] + "\n", (ROOT / "CHANGELOG.md").read_text())
