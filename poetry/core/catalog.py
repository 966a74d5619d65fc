"""The poems bundled with txpoetry, addressable by short name."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from poetry.core.errors import UsageError

DEFAULT_POEM = "ecstasy"
"""The poem served when none is named: John Donne's The Ecstasy, as in the tutorial."""

_POEMS = files("poetry.core") / "poems"
_SUFFIX = ".txt"


def bundled_names() -> list[str]:
    """Return the short names of the bundled poems, sorted."""
    return sorted(
        entry.name[: -len(_SUFFIX)] for entry in _POEMS.iterdir() if entry.name.endswith(_SUFFIX)
    )


def load_poem(name_or_path: str) -> bytes:
    """Return the bytes of a bundled poem by short name, or of a regular file by path.

    Raises L{UsageError} when neither exists, the path is not a regular file
    (a directory, a device such as ``/dev/zero``, a pipe), the file cannot be
    read, or it is empty: a poem served to clients must have at least one
    byte, since a clean close with none means "no poem".
    """
    if name_or_path in bundled_names():
        return (_POEMS / f"{name_or_path}{_SUFFIX}").read_bytes()
    path = Path(name_or_path)
    if not path.exists():
        known = ", ".join(bundled_names())
        raise UsageError(f"no such poem or file: {name_or_path!r} (bundled poems: {known})")
    if not path.is_file():
        raise UsageError(f"not a regular file: {name_or_path!r}")
    try:
        poem = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {name_or_path!r}: {error.strerror}") from error
    if not poem:
        raise UsageError(f"empty poem file: {name_or_path!r}")
    return poem
