"""A user's typed tests are checked by mypy against the installed package's own types.

The files in C{tests/typed_user/} are copied into an empty folder and checked
there, so that mypy finds C{poetry} as a user's project does: installed, and
typed only if it carries C{py.typed} (PEP 561). The configuration is a Twisted
user's C{--strict}: less C{disallow_untyped_calls}, which trial's untyped
assertions need; txpoetry's own public API passes without it (pyproject.toml). The user's
module uses C{poetry} and C{poetry.testing} (its network, its leftover check, its trial mixin).
"""

from __future__ import annotations

import re
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from tests.support.processes import spawn

TYPED_USER = Path(__file__).resolve().parents[1] / "typed_user"

CACHE = Path(__file__).resolve().parents[2] / ".mypy_cache" / "typed-user"
"""mypy's cache for these runs, kept between them (git ignores it): a cold run takes 2 s."""

USER_CONFIG = """\
[mypy]
strict = True
disallow_untyped_calls = False
plugins = mypy_zope:plugin
"""
"""The user's mypy configuration."""

EXPECTED = re.compile(r"#\s*E:\s*([\w-]+)\s*$")
REPORTED = re.compile(r"^(?P<file>[\w.]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def expected_errors(name: str) -> set[tuple[str, int, str]]:
    """Return (file, line, code) for each line of ``name`` marked C{# E: code}."""
    lines = (TYPED_USER / name).read_text().splitlines()
    marked = ((number, EXPECTED.search(line)) for number, line in enumerate(lines, 1))
    return {(name, number, match[1]) for number, match in marked if match}


class UserTypeCheckTests(TestCase):
    """mypy, run as a user would run it, sees txpoetry's types."""

    timeout = 120

    if find_spec("mypy") is None or find_spec("mypy_zope") is None:
        skip = "mypy and mypy-zope are not installed (pip install -e '.[dev]')"

    def user_project(self) -> Path:
        """Return a fresh folder holding the typed user's files and mypy configuration."""
        project = Path(self.mktemp())
        shutil.copytree(TYPED_USER, project)
        (project / "mypy.ini").write_text(USER_CONFIG)
        return project

    async def test_typed_user_module_checks_and_misuses_are_reported(self) -> None:
        """The typed user module passes; each misuse is reported on its line, and nothing else."""
        project = self.user_project()
        argv = [sys.executable, "-m", "mypy", "--python-executable", sys.executable]
        argv += ["--config-file", "mypy.ini", "--cache-dir", str(CACHE), "--no-error-summary"]
        argv += ["test_with_txpoetry.py", "wrong_types.py"]
        mypy = spawn(reactor, argv, path=str(project))
        status = await mypy.ended
        reported = {
            (match["file"], int(match["line"]), match["code"])
            for match in map(REPORTED.match, mypy.out.decode().splitlines())
            if match
        }
        self.assertEqual(reported, expected_errors("wrong_types.py"), mypy.out + mypy.err)
        self.assertEqual(status, 1, mypy.err)

    async def test_typed_user_module_passes_under_trial(self) -> None:
        """The typed user module is a working test module too."""
        project = self.user_project()
        argv = [sys.executable, "-m", "twisted.trial", "test_with_txpoetry"]
        trial = spawn(reactor, argv, path=str(project))
        self.assertEqual(await trial.ended, 0, trial.out + trial.err)
        self.assertIn(b"PASSED (successes=4)", trial.out)
