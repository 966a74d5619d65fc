"""txpoetry's tests: the unit tier (``tests.unit``), the integration tier (``tests.integration``).

The modules that moved into L{poetry.core} and L{poetry.operations} keep their
old paths as deprecated aliases (L{poetry._moved}); the tests import the new
ones, as C{tests/unit/test_package.py} checks.
"""
