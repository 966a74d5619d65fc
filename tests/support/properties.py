"""The one place where hypothesis profiles are registered and chosen.

``ci`` (the default) is bounded and derandomized, so the unit tier stays fast
and gives the same result every run; ``thorough`` explores far more examples.
Choose with the environment variable ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    # differing_executors: mutmut runs the suite twice in one process.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """Split ``data`` at ``cuts`` (clipped to its length) into consecutive packets."""
    edges = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]
