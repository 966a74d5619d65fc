"""What a test module shown in the documentation is written for: trial, or pytest."""

from __future__ import annotations

import ast


def is_pytest_module(snippet: str) -> bool:
    """Whether ``snippet`` is a pytest module: a test function at its top level, not in a case."""
    return any(
        isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        for node in ast.parse(snippet).body
    )
