"""Each ```python block of the README and of docs/ runs as pasted, in a process of its own."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from tests.support.processes import WITHOUT_HYPOTHESIS, spawn
from tests.support.snippets import is_pytest_module

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_snippets() -> list[str]:
    """Return the text of each ```python block in the README and docs/."""
    return [
        snippet
        for document in DOCUMENTS
        for snippet in re.findall(r"```python\n(.*?)```", document.read_text(), re.DOTALL)
    ]


class ReadmeSnippetTests(TestCase):
    """A newcomer who pastes a snippet into a file gets a program or a test that works."""

    def snippet_file(self, name: str, snippet: str) -> str:
        """Write ``snippet`` to ``name`` in a fresh folder; return its path."""
        folder = Path(self.mktemp())
        folder.mkdir()
        path = folder / name
        path.write_text(snippet)
        return str(path)

    async def test_programs_run(self) -> None:
        """Each program (a snippet with no test in it) exits 0, prints, and writes no error."""
        programs = [s for s in python_snippets() if "def test_" not in s]
        self.assertTrue(programs)
        children = [  # all at once
            spawn(reactor, [sys.executable, self.snippet_file("example.py", snippet)])
            for snippet in programs
        ]
        for snippet, child in zip(programs, children, strict=True):
            self.assertEqual(await child.ended, 0, child.err)
            self.assertEqual(child.err, b"")
            self.assertTrue(child.out.strip(), snippet)

    async def test_test_modules_pass(self) -> None:
        """Each test module shown runs under trial (or pytest), as a file of its own, and passes."""
        modules = [s for s in python_snippets() if "def test_" in s]
        self.assertTrue([s for s in modules if is_pytest_module(s)])
        children = []
        for snippet in modules:  # all at once
            path = self.snippet_file("test_example.py", snippet)
            if is_pytest_module(snippet):
                argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
                argv += WITHOUT_HYPOTHESIS
                argv += ["--rootdir", str(Path(path).parent), path]
            else:
                argv = [sys.executable, "-m", "twisted.trial", "--temp-directory", self.mktemp()]
                argv += [path]
            children.append(spawn(reactor, argv))
        for snippet, child in zip(modules, children, strict=True):
            self.assertEqual(await child.ended, 0, child.out + child.err)
            tests = snippet.count("def test_")
            pytest = is_pytest_module(snippet)
            passed = f"{tests} passed" if pytest else f"PASSED (successes={tests})"
            self.assertIn(passed.encode(), child.out)
