"""Search fault plans for the interleaving bugs no hand-picked schedule reaches.

A L{Plan} is a scenario (a L{World}: servers in processes of their own,
clients, links) and timed L{Step}s of faults, each at its time or once a
connection is in a phase, with a seed for the order of events due at the
same instant. L{run_plan} runs one and checks the invariants (integrity,
liveness, recovery, error, and the world's own); L{plans} and L{steps} are
Hypothesis strategies of them, to compose for your own worlds; L{search}
draws plans until one breaks an invariant, and shrinks it to the smallest
plan that still does, printed as lines (L{Plan.lines}) and as a trial test
(L{Plan.test}).

From the command line: C{python -m poetry.testing.explore [SCENARIO ...]
--plans N --seed S [--jobs N] [--json]}; see C{docs/exploring.md}.
"""

from poetry.testing.explore.plans import KINDS, PHASES, Plan, Step
from poetry.testing.explore.runner import INVARIANTS, Outcome, Scenarios, run_plan
from poetry.testing.explore.scenarios import SCENARIOS
from poetry.testing.explore.search import Search, search, search_all
from poetry.testing.explore.strategies import plans, steps
from poetry.testing.explore.world import Check, Client, Lingering, Server, World, lingering

__all__ = [
    "INVARIANTS",
    "KINDS",
    "PHASES",
    "SCENARIOS",
    "Check",
    "Client",
    "Lingering",
    "Outcome",
    "Plan",
    "Scenarios",
    "Search",
    "Server",
    "Step",
    "World",
    "lingering",
    "plans",
    "run_plan",
    "search",
    "search_all",
    "steps",
]
