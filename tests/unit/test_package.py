"""Tests for the shape of the L{poetry} package: its layers, its public names, its old paths.

The import graph is read from the source (C{ast}), every import counted,
those inside functions too: entry points at the top, then the operations
layer, then the tutorial core; no import cycle, no arrow back up, no entry
point importing another.
"""

from __future__ import annotations

import ast
import importlib
import warnings
from collections.abc import Iterator
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

import poetry
from poetry.core.errors import EmptyPoemError

ROOT = Path(poetry.__file__).parent.parent
"""The repository root (the directory holding ``poetry/`` and ``tests/``)."""

DEPRECATED = {
    f"poetry.{path.stem}"
    for path in Path(poetry.__file__).parent.glob("*.py")
    if "from poetry._moved import forwarding" in path.read_text()
}
"""The old paths of the modules that moved: thin aliases that warn."""

ENTRY_POINTS = {"poetry.__main__", "poetry.cli", "poetry.twistd", "poetry.commands"}
"""The entry points' modules (and package): the only ones that touch the global reactor."""

ENTRY_ARROWS = {("poetry.__main__", "poetry.cli"), ("poetry.cli", "poetry.commands")}
"""The only imports from one entry point to another: C{python -m poetry} is the
C{txpoetry} command, and the command line is made of the commands in
L{poetry.commands}."""

LAYERS = (
    ("entry point", ENTRY_POINTS),
    ("testing", {"poetry.testing"}),
    ("operations", {"poetry.operations"}),
    ("core", {"poetry.core"}),
)
"""The layers, top first: a module may import from its own layer and those below it only.

C{poetry.testing} (the in-memory network) sits above the operations layer,
which never imports it, and the entry points do not use it.
"""


def module_name(path: Path) -> str:
    """Return the dotted name of the module at ``path`` (relative to L{ROOT})."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> Iterator[str]:
    """Yield each module in ``modules`` that the source at ``path`` imports, anywhere in it."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name in modules:
                yield name


def import_graph(package: Path) -> dict[str, set[str]]:
    """Return, for each module under ``package``, the modules of the package it imports."""
    paths = {module_name(path): path for path in package.rglob("*.py")}
    return {name: set(imported(path, set(paths))) - {name} for name, path in paths.items()}


def layer(module: str) -> int:
    """Return the index of ``module``'s layer in L{LAYERS} (0 is the top)."""
    for index, (_, members) in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    raise KeyError(module)


PYTEST_PLUGIN = "poetry.testing.pytest_plugin"
"""The one module that imports pytest (pytest loads it by its C{pytest11} entry point)."""

GRAPH = import_graph(ROOT / "poetry")
"""The import graph of the package, read once."""

FACADE = {"poetry", "poetry._moved"} | DEPRECATED
"""The package's own names and the deprecated aliases (with what makes them): outside the layers."""

LAYERED = {m: deps for m, deps in GRAPH.items() if m not in FACADE}
"""The graph of the layered modules."""


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle of ``graph`` (its modules in order), or None if it has none."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done:
            return None
        path.append(module)
        for dependency in sorted(graph.get(module, ())):
            found = visit(dependency)
            if found:
                return found
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        found = visit(module)
        if found:
            return found
    return None


class LayerTests(SynchronousTestCase):
    """Dependencies point one way: entry points, then operations, then the core."""

    def test_every_module_has_a_layer(self) -> None:
        """Each module of the package is in one of the layers (a new one must be placed)."""
        for module in LAYERED:
            layer(module)

    def test_no_arrow_back_up(self) -> None:
        """No module imports from a layer above its own."""
        upward = [
            (module, dependency)
            for module, dependencies in LAYERED.items()
            for dependency in dependencies
            if dependency not in FACADE and layer(dependency) < layer(module)
        ]
        self.assertEqual(upward, [])

    def test_entry_points_do_not_import_each_other(self) -> None:
        """No entry point imports another: what they share lives in a lower layer."""

        def entry(module: str) -> str:
            return ".".join(module.split(".")[:2])

        crossing = {
            (module, dependency)
            for module, dependencies in LAYERED.items()
            for dependency in dependencies
            if layer(module) == layer(dependency) == 0 and entry(module) != entry(dependency)
        }
        commands = {(a, ".".join(b.split(".")[:2])) for a, b in crossing}
        self.assertLessEqual(commands, ENTRY_ARROWS)

    def test_commands_do_not_import_each_other(self) -> None:
        """A command does not import another command (``demo`` starts services the lower way)."""
        for module, dependencies in LAYERED.items():
            if module.startswith("poetry.commands."):
                self.assertEqual(
                    {d for d in dependencies if d.startswith("poetry.commands.")}, set(), module
                )

    def test_no_cycles(self) -> None:
        """The import graph has no cycle."""
        graph = dict(LAYERED)
        self.assertIsNone(cycle(graph))

    def test_cycle_found(self) -> None:
        """The cycle check finds a cycle where there is one."""
        self.assertEqual(cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}), ["a", "b", "c", "a"])
        self.assertIsNone(cycle({"a": {"b"}, "b": set()}))

    def test_nothing_imports_the_old_paths(self) -> None:
        """No module of the package imports the facade or a deprecated alias."""
        for module, dependencies in LAYERED.items():
            self.assertEqual(dependencies & FACADE, set(), module)

    def test_core_imports_only_the_core(self) -> None:
        """The tutorial core imports nothing else of txpoetry."""
        for module, dependencies in LAYERED.items():
            if layer(module) == layer("poetry.core"):
                self.assertEqual({d for d in dependencies if layer(d) != layer(module)}, set())


class PytestOptionalTests(SynchronousTestCase):
    """pytest stays optional: only the pytest plugin, which pytest alone loads, imports it."""

    def test_only_the_plugin_imports_pytest(self) -> None:
        """No module of the package but the plugin imports pytest."""
        importing = {
            module_name(path)
            for path in (ROOT / "poetry").rglob("*.py")
            if any(True for _ in imported(path, {"pytest", "_pytest"}))
        }
        self.assertEqual(importing, {PYTEST_PLUGIN})

    def test_nothing_imports_the_plugin(self) -> None:
        """No module of the package imports the plugin (pytest finds it by its entry point)."""
        self.assertEqual(
            {m for m, dependencies in GRAPH.items() if PYTEST_PLUGIN in dependencies}, set()
        )


class TestsImportNewPathsTests(SynchronousTestCase):
    """The tests import the modules where they live now."""

    def test_tests_import_new_paths(self) -> None:
        """No test module imports a deprecated path."""
        old = {
            module_name(path)
            for path in (ROOT / "tests").rglob("*.py")
            if any(True for _ in imported(path, DEPRECATED))
        }
        self.assertEqual(old, set())


class PublicNamesTests(SynchronousTestCase):
    """What C{import poetry} offers."""

    def test_errors_exported(self) -> None:
        """Every error a fetch can fail with is importable from C{poetry}, the empty poem's too."""
        self.assertIs(poetry.EmptyPoemError, EmptyPoemError)
        self.assertIn("EmptyPoemError", poetry.__all__)

    def test_all_exist(self) -> None:
        """Every name in C{poetry.__all__} is there."""
        for name in poetry.__all__:
            self.assertTrue(hasattr(poetry, name), name)


def defined_in(module_name: str) -> Iterator[tuple[str, object]]:
    """Yield each public name the module ``module_name`` defines (not imports), and its value."""
    module = importlib.import_module(module_name)
    assert module.__file__ is not None
    for node in ast.parse(Path(module.__file__).read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        for name in names:
            if not name.startswith("_") and "mutmut" not in name:  # not mutmut's trampolines
                yield name, getattr(module, name)


class DeprecatedPathTests(SynchronousTestCase):
    """The old import paths keep working, with a C{DeprecationWarning} naming the new one."""

    def test_every_old_module_has_an_alias(self) -> None:
        """The modules that moved out of the package's top level are all aliased."""
        self.assertEqual(DEPRECATED, {f"poetry.{name}" for name in MOVED})

    def test_old_names_are_the_new_objects(self) -> None:
        """Each public name of each moved module is found through its old path, with a warning."""
        for old, new_modules in MOVED.items():
            alias = importlib.import_module(f"poetry.{old}")
            for new in new_modules:
                for name, value in defined_in(new):
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        self.assertIs(getattr(alias, name), value)
                    self.assertEqual(
                        [(w.category, str(w.message)) for w in caught],
                        [
                            (
                                DeprecationWarning,
                                f"poetry.{old} is deprecated: import {name} from {new}",
                            )
                        ],
                    )

    def test_warning_points_at_the_importer(self) -> None:
        """The warning is reported where the old path is imported (so a filter can find it)."""
        code = compile("from poetry.server import PoetryServerFactory", "importer.py", "exec")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(code, {"__name__": "importer"})
        self.assertEqual([w.filename for w in caught], ["importer.py"])

    def test_unknown_name(self) -> None:
        """A name that is nowhere is an C{AttributeError}, without a warning."""
        alias = importlib.import_module("poetry.server")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            self.assertRaises(AttributeError, getattr, alias, "NoSuchThing")
            self.assertRaises(AttributeError, getattr, alias, "__path__")


MOVED = {
    "address": ("poetry.core.address", "poetry.operations.endpoints"),
    "adopted": ("poetry.operations.adopted",),
    "catalog": ("poetry.core.catalog",),
    "client": ("poetry.core.client",),
    "connecting": ("poetry.core.connecting",),
    "descriptors": ("poetry.core.closing", "poetry.operations.descriptors"),
    "errors": ("poetry.core.errors",),
    "fetch_many": ("poetry.core.fetch_many",),
    "graceful": (
        "poetry.operations.accept_limit",
        "poetry.operations.graceful",
        "poetry.operations.limit_warning",
        "poetry.operations.tracking",
    ),
    "lingering": ("poetry.operations.lingering",),
    "logs": ("poetry.operations.logs",),
    "pacer": ("poetry.core.pacer",),
    "progress": ("poetry.core.progress",),
    "proxy": ("poetry.core.proxy",),
    "recipes": ("poetry.operations.recipes",),
    "server": ("poetry.core.server",),
    "slow_server": ("poetry.core.slow_server",),
    "tally": ("poetry.core.tally",),
    "transform_client": ("poetry.core.transform_client",),
    "transform_server": ("poetry.core.transform_server",),
    "transforms": ("poetry.core.transforms",),
    "values": ("poetry.operations.values",),
    "workers": ("poetry.operations.workers",),
}
"""Each module that moved (by its old name in C{poetry}) and the modules that now hold its names."""
