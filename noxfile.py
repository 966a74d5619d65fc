"""Run the unit tier on each supported Python and against the lowest declared dependencies.

``nox -s tests`` runs it on every Python from 3.10 to 3.13 with the newest releases;
``nox -s lowest`` runs it with each dependency installed at the floor ``pyproject.toml``
declares (``Twisted>=25.5`` becomes ``Twisted==25.5``), on the lowest and the highest Python,
so a floor is only ever a version that was tested. A floor that fails is raised, never guessed.
Each ``pythonX.Y`` must be on the path (with pyenv: ``PYENV_VERSION=3.11:3.10:3.12:3.13``).
"""

from __future__ import annotations

import os
import re

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lowest"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYPROJECT = nox.project.load_toml("pyproject.toml")


SAME_VERSIONS = """
import sys
from importlib.metadata import version

def release(text):
    parts = [int(part) for part in text.split(".")]
    return parts + [0] * (4 - len(parts))

for pin in sys.argv[1:]:
    name, floor = pin.split("==")
    installed = version(name)
    assert release(installed) == release(floor), f"{name} {installed} installed, not {floor}"
    print(name, installed)
"""
"""Check that each NAME==VERSION argument is the version installed."""


def floors() -> list[str]:
    """Pin each dependency of the package and of its ``test`` extra to its declared floor."""
    project = PYPROJECT["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = []
    for requirement in declared:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)>=([0-9][0-9.]*)", requirement)
        if match is None:
            raise ValueError(f"{requirement!r}: declare a floor as NAME>=VERSION")
        pins.append(f"{match[1]}=={match[2]}")
    return pins


def unit_tier(session: nox.Session) -> None:
    """Run the unit tier as the README says, under pytest, and under coverage against its floor."""
    session.run("trial", "--reporter=text", "tests.unit")
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/unit")
    data = {"COVERAGE_FILE": os.path.join(session.create_tmp(), ".coverage")}
    trial = os.path.join(session.bin, "trial")
    session.run("coverage", "run", trial, "tests.unit", env=data, silent=True)
    session.run("coverage", "report", env=data)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The unit tier with the newest releases of every dependency."""
    session.install("-e", ".[test]")
    unit_tier(session)


@nox.session(python=[PYTHONS[0], PYTHONS[-1]])
def lowest(session: nox.Session) -> None:
    """The unit tier with every dependency at the floor that pyproject.toml declares."""
    pins = floors()
    session.install("-e", ".[test]", *pins)
    session.run("python", "-c", SAME_VERSIONS, *pins)
    unit_tier(session)
