"""The documentation holds: its references to tests name tests that exist, its tests pass."""

from __future__ import annotations

import ast
import functools
import re
import types
import unittest
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.support.snippets import is_pytest_module

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)+)`")
DOCUMENTS = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
"""Every page of documentation: the README and docs/."""


def defines(node: ast.AST, name: str) -> ast.AST | None:
    """Return the class, function or assigned name ``name`` defined directly in ``node``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if child.name == name:
                return child
        if isinstance(child, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in child.targets
        ):
            return child  # a test case made by a kit: in_memory(...), over_tcp(...)
    return None


@functools.cache
def parsed(path: str) -> ast.Module:
    """Return the syntax tree of the repository's file ``path`` (each file parsed once)."""
    return ast.parse((ROOT / path).read_text())


def references(document: str) -> list[tuple[str, list[str]]]:
    """Return each ``path.py::Name::name`` reference in ``document`` as (path, names)."""
    text = (ROOT / document).read_text()
    return [(path, names.split("::")[1:]) for path, names in REFERENCE.findall(text)]


def python_snippets(document: str) -> list[str]:
    """Return the text of each ```python block in ``document``."""
    return re.findall(r"```python\n(.*?)```", (ROOT / document).read_text(), re.DOTALL)


def unit_tests(document: str) -> list[str]:
    """Return the trial test modules shown in ``document`` that need no global reactor.

    A pytest module (its tests take pytest's fixtures) is run by the
    integration tier, under pytest (C{tests/integration/test_readme.py}).
    """
    return [
        snippet
        for snippet in python_snippets(document)
        if "def test_" in snippet
        and "from twisted.internet import reactor" not in snippet
        and not is_pytest_module(snippet)
    ]


def run_snippet(snippet: str, name: str) -> unittest.TestResult:
    """Run the tests of ``snippet`` as a module of the unit tier (the guard watching); the result.

    The module is named under C{tests.unit}, so that the determinism guard
    treats its code as unit-tier code.
    """
    module = types.ModuleType(f"tests.unit.snippet_{abs(hash(name))}")
    exec(compile(snippet, name, "exec"), module.__dict__)
    result = unittest.TestResult()
    for case in vars(module).values():
        if isinstance(case, type) and case.__module__ == module.__name__:
            unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


class DocumentationReferenceTests(SynchronousTestCase):
    """Every test the documentation points to is there to read and run."""

    def test_guide_has_references(self) -> None:
        """The testing guide points at tests in both tiers."""
        paths = {path for path, _ in references("docs/testing-patterns.md")}
        self.assertTrue(any(p.startswith("tests/unit/") for p in paths))
        self.assertTrue(any(p.startswith("tests/integration/") for p in paths))

    def test_references_exist(self) -> None:
        """Each referenced file defines the referenced class and test (read, not imported)."""
        for document in DOCUMENTS:
            for path, names in references(document):
                node: ast.AST | None = parsed(path)
                for name in names:
                    assert node is not None
                    node = defines(node, name)
                    self.assertIsNotNone(node, f"{document}: {path}::{'::'.join(names)}")

    def test_snippets_are_python(self) -> None:
        """Every ```python block of the documentation parses as a whole module."""
        for document in DOCUMENTS:
            for snippet in python_snippets(document):
                ast.parse(snippet)

    def test_readme_shows_a_test(self) -> None:
        """The README shows one test module, and start-here.md one per step."""
        self.assertEqual(len(unit_tests("README.md")), 1)
        self.assertGreaterEqual(len(python_snippets("docs/start-here.md")), 5)

    def test_test_snippets_pass_as_pasted(self) -> None:
        """Each test module the documentation shows passes in the unit tier, exactly as shown.

        A snippet that runs on the global reactor (the tutorial's real-socket
        test) is run by the integration tier instead, as every snippet is
        (C{tests/integration/test_readme.py}).
        """
        for document in DOCUMENTS:
            for index, snippet in enumerate(unit_tests(document)):
                result = run_snippet(snippet, f"{document}[{index}]")
                problems = [text for _, text in result.errors + result.failures]
                self.assertEqual(problems, [], f"{document}, test snippet {index}")
                self.assertEqual(result.testsRun, snippet.count("def test_"), document)

    def test_readme_pip_commands_install_the_project(self) -> None:
        """Each C{pip install} the README gives installs txpoetry itself, never a lone tool.

        A lone C{pip install pytest} leaves out hypothesis, which the unit tier
        imports; the project's C{test} extra brings both.
        """
        commands = re.findall(r"pip install [^`\n&]+", (ROOT / "README.md").read_text())
        self.assertTrue(commands)
        for command in commands:
            self.assertRegex(command, r"(^|\s)'?\.(\[[\w,]+\])?'?(\s|$)", command)
        extra = re.search(r"^test = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.M)
        assert extra is not None
        names = re.findall(r'"([\w.-]+)', extra[1])
        self.assertIn("pytest", names)
        self.assertIn("hypothesis", names)

    def test_readme_twistd_commands_name_a_pid_file(self) -> None:
        """Each twistd command in the documentation sets C{--pidfile}.

        Without it every twistd writes C{twistd.pid} in the current directory,
        and a second one started there refuses to run.
        """
        text = "\n".join((ROOT / document).read_text() for document in DOCUMENTS)
        commands = re.findall(r"(?m)(?:^|`)(twistd [^`\n]*?\bpoetry[^`\n]*)", text)
        self.assertGreaterEqual(len(commands), 4)
        for command in commands:
            self.assertIn("--pidfile=", command)

    def test_every_clock_step_says_what_it_triggers(self) -> None:
        """Every C{advance} or C{pump} call in the unit tier carries a comment on its line.

        The testing guide promises that each step of the clock names what it
        triggers (or what it stops just short of); this keeps the promise.
        """
        step = re.compile(r"\.(advance|pump)\(")
        bare = []
        for path in sorted((ROOT / "tests" / "unit").glob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                call = step.search(line)
                if call is not None and "#" not in line[call.end() :]:
                    bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
        self.assertEqual(bare, [])
