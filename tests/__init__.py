"""txpoetry's tests: the unit tier (``tests.unit``), the integration tier (``tests.integration``).

The modules that moved into L{poetry.core} and L{poetry.operations} keep their
old paths as deprecated aliases (L{poetry._moved}); the tests import the new
ones, as C{tests/unit/test_layers.py} checks. The files listed in
L{STILL_ON_OLD_PATHS} are being rewritten with C{poetry.testing} (issue #20)
and move to the new paths with that rewrite: only their imports of the old
paths are let through, so that any other test importing one still fails
C{python -W error::DeprecationWarning -m twisted.trial tests.unit}.
"""

import warnings

STILL_ON_OLD_PATHS = (
    "tests.unit.test_faults",
    "tests.unit.test_memory",
    "tests.unit.test_memory_transport",
    "tests.unit.test_simulator_details",
    "tests.unit.test_testing",
    "tests.unit.test_contract_memory",
    "tests.unit.test_readme_example",
    "tests.support.contracts",
    "tests.support.server_checks",
    "tests.integration.test_contract_tcp",
    "tests.integration.test_integrity",
    "tests.integration.test_namespaces",
)
"""Test modules that still import deprecated paths, until the rewrite of issue #20 moves them."""

warnings.filterwarnings(
    "ignore",
    r"poetry\.\w+ is deprecated: import ",
    DeprecationWarning,
    "|".join(name.replace(".", r"\.") + "$" for name in STILL_ON_OLD_PATHS),
)
