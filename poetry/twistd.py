"""Expose txpoetry's service recipes as ``twistd`` plugins."""

from __future__ import annotations

import signal
import sys
from typing import Any

from twisted.application.service import IService, IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer

from poetry.core.errors import UsageError
from poetry.operations.recipes import ServiceRecipe
from poetry.operations.running import second_signal_ends_grace


@implementer(IServiceMaker, IPlugin)
class RecipeServiceMaker:
    """A twistd plugin that builds the service of one recipe."""

    def __init__(self, recipe: ServiceRecipe, reactor: Any = None) -> None:
        self._recipe = recipe
        self._reactor = reactor
        self.tapname = recipe.tapname
        self.description = recipe.description
        self.options = recipe.usage_options()

    def makeService(self, options: usage.Options) -> IService:
        """Build the service (on the global reactor unless given one).

        A bad setting exits with status 2 and one line on stderr. Once the
        reactor begins to shut down, a second SIGINT or SIGTERM ends the grace
        period at once.
        """
        reactor = self._reactor
        if reactor is None:
            from twisted.internet import reactor
        try:
            service = self._recipe.make_service(reactor, options)
        except UsageError as error:
            print(f"twistd {self.tapname}: error: {error}", file=sys.stderr)
            raise SystemExit(2) from error
        reactor.addSystemEventTrigger(
            "before", "shutdown", second_signal_ends_grace, reactor, service, signal.signal
        )
        return service
