"""The unit tier: synchronous, deterministic, no sockets, no real time, no global reactor.

Importing it installs the determinism guard (``tests/support/guard.py``).
"""

from tests.support import guard

guard.install()
