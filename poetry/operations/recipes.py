"""How to build each txpoetry service from its settings.

One recipe per service is the single source of truth for its options: the
``txpoetry`` command line and the ``twistd`` plugins both read their options
from the recipe and build the service with it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IProtocolFactory
from twisted.logger import Logger
from twisted.python import usage

from poetry.core.address import ADDRESS_FORMS, Address, parse_address
from poetry.core.catalog import DEFAULT_POEM, load_poem
from poetry.core.client import DEFAULT_MAX_BYTES, get_poetry
from poetry.core.errors import UsageError
from poetry.core.proxy import DEFAULT_FAILURE_TTL, DEFAULT_UPSTREAM_TIMEOUT, PoemCache, ProxyFactory
from poetry.core.server import PoetryServerFactory
from poetry.core.slow_server import DEFAULT_CHUNK_BYTES, DEFAULT_DELAY, SlowPoetryFactory
from poetry.core.tally import Tally
from poetry.core.transform_server import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_LENGTH,
    DEFAULT_WRITE_TIMEOUT,
    TransformFactory,
)
from poetry.operations.descriptors import connection_budget
from poetry.operations.endpoints import listens_at, loopback_listen, server_endpoint
from poetry.operations.graceful import DEFAULT_GRACE_PERIOD, GracefulServerService
from poetry.operations.values import (
    argument_type,
    non_negative_seconds,
    positive_int,
    positive_seconds,
)

Settings = Mapping[str, Any]
"""Parsed settings keyed by name, with dashes turned into underscores."""


def normalized(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``settings`` keyed by Python identifiers (twistd keys them by option name)."""
    return {key.replace("-", "_"): value for key, value in settings.items()}


@dataclass(frozen=True)
class Setting:
    """One option of a service, shared by the command line and its twistd plugin."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    metavar: str = "VALUE"
    required: bool = False

    @property
    def key(self) -> str:
        """The name as a Python identifier."""
        return self.name.replace("-", "_")

    @property
    def help_with_default(self) -> str:
        """The help text, naming the default for argparse when there is one."""
        if self.default is None:
            return self.help
        return f"{self.help} (default %(default)s)"

    def add_argument(self, parser: argparse.ArgumentParser) -> None:
        """Add this setting to a command-line parser as ``--NAME``."""
        parser.add_argument(
            f"--{self.name}",
            dest=self.key,
            default=self.default,
            type=argument_type(self.parse),
            required=self.required,
            metavar=self.metavar,
            help=self.help_with_default,
        )


def listen_setting(default_port: int) -> Setting:
    """Return the ``--listen`` setting of a service whose default port is ``default_port``."""
    return Setting(
        "listen",
        loopback_listen(default_port),
        str,
        "Twisted server endpoint; tcp:0 picks a free port",
        "ENDPOINT",
    )


MAX_BYTES = Setting(
    "max-bytes",
    DEFAULT_MAX_BYTES,
    positive_int,
    "the largest poem accepted from a server, in bytes; past it the connection is reset"
    " and the fetch fails",
    "N",
)
"""The size limit on a fetched poem, shared by ``get`` and ``proxy``."""

GRACE = Setting(
    "grace",
    DEFAULT_GRACE_PERIOD,
    non_negative_seconds,
    "on shutdown, seconds that connections in flight get to finish",
    "S",
)
MAX_CONNECTIONS = Setting(
    "max-connections",
    None,
    positive_int,
    "the most client connections open at once; more clients wait in the listen backlog"
    " (default: as many as the file-descriptor limit allows)",
    "N",
)


@dataclass(frozen=True)
class ServiceRecipe:
    """A server's settings, and how to build its protocol factory from them."""

    tapname: str
    description: str
    settings: tuple[Setting, ...]
    build_factory: Callable[[Any, Settings], IProtocolFactory]
    default_port: int
    poem_argument: bool = False

    @property
    def all_settings(self) -> tuple[Setting, ...]:
        """Every setting of the service: its own, and those every server has.

        Each service listens on its own port of 127.0.0.1 by default, so that all
        of them can run side by side without an endpoint given.
        """
        return (listen_setting(self.default_port), *self.settings, GRACE, MAX_CONNECTIONS)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add this service's settings to a command-line parser."""
        if self.poem_argument:
            parser.add_argument(
                "poem", nargs="?", default=DEFAULT_POEM, help="a bundled poem's name or a file path"
            )
        for setting in self.all_settings:
            setting.add_argument(parser)

    def usage_options(self) -> type[usage.Options]:
        """Return a twistd options class with the same settings."""
        recipe = self

        class Options(usage.Options):
            synopsis = f"[options] {'[POEM]' if recipe.poem_argument else ''}".rstrip()
            longdesc = recipe.description
            optParameters = [
                [s.name, None, s.default, s.help, s.parse] for s in recipe.all_settings
            ]

            def postOptions(self) -> None:
                for setting in recipe.settings:
                    if setting.required and self[setting.name] is None:
                        raise usage.UsageError(f"--{setting.name} is required")

            def parseArgs(self, *poem: str) -> None:
                if len(poem) > int(recipe.poem_argument):
                    raise usage.UsageError(f"unexpected arguments: {' '.join(poem)}")
                if recipe.poem_argument:
                    self["poem"] = poem[0] if poem else DEFAULT_POEM

        return Options

    def defaults(self) -> dict[str, Any]:
        """Return every setting's default, keyed like parsed settings."""
        values = {s.key: s.default for s in self.all_settings}
        if self.poem_argument:
            values["poem"] = DEFAULT_POEM
        return values

    def make_service(self, reactor: Any, settings: Settings) -> GracefulServerService:
        """Build the service on ``reactor``; raise L{UsageError} on a bad setting.

        Settings not given take their defaults; the connection limit's default
        is what this process's file-descriptor limit allows now.
        """
        values = {**self.defaults(), **normalized(settings)}
        factory = self.build_factory(reactor, values)
        endpoint = server_endpoint(reactor, values["listen"])
        max_connections = values["max_connections"] or connection_budget()
        return GracefulServerService(endpoint, factory, reactor, values["grace"], max_connections)


def summary_tally(reactor: Any, what: str, namespace: str, settings: Settings) -> Tally:
    """Return the tally a busy service logs its ``what`` with: a summary line per period.

    Each event is logged too (at debug level) only when the command line asks
    for ``--log-level debug``; under twistd, whose logging is its own, never.
    """
    return Tally(
        reactor, what, Logger(namespace=namespace), each=settings.get("log_level") == "debug"
    )


CHUNK_BYTES = Setting(
    "chunk-bytes",
    None,
    positive_int,
    f"slow mode: send N bytes per chunk (default {DEFAULT_CHUNK_BYTES} in slow mode)",
    "N",
)
DELAY = Setting(
    "delay",
    None,
    non_negative_seconds,
    f"slow mode: seconds between chunks (default {DEFAULT_DELAY} in slow mode;"
    " 0, the default, serves the whole poem at once)",
    "S",
)


def _poetry_factory(reactor: Any, settings: Settings) -> IProtocolFactory:
    """Build the fast poetry server's factory, or the slow one's when pacing is asked for.

    A chunk size given with a delay of 0 is refused, since it could not take effect.
    """
    poem = load_poem(settings["poem"])
    chunk_bytes, delay = settings.get("chunk_bytes"), settings.get("delay")
    if delay == 0 and chunk_bytes is not None:
        raise UsageError(
            "--chunk-bytes has no effect with --delay 0 (the whole poem is sent at once):"
            " give a delay above 0, or drop --chunk-bytes"
        )
    if delay == 0 or (chunk_bytes is None and delay is None):
        return PoetryServerFactory(
            poem, summary_tally(reactor, "poems served", "poetry.core.server", settings)
        )
    return SlowPoetryFactory(
        poem,
        DEFAULT_CHUNK_BYTES if chunk_bytes is None else chunk_bytes,
        DEFAULT_DELAY if delay is None else delay,
        reactor,
    )


POETRY = ServiceRecipe(
    tapname="poetry",
    description="Serve a poem to every client that connects (all at once, or slowly), then close.",
    settings=(CHUNK_BYTES, DELAY),
    build_factory=_poetry_factory,
    default_port=10000,
    poem_argument=True,
)
"""The poetry server."""


MAX_LENGTH = Setting(
    "max-length",
    DEFAULT_MAX_LENGTH,
    positive_int,
    "the longest request accepted, in bytes; a longer one closes the connection",
    "N",
)
IDLE_TIMEOUT = Setting(
    "idle-timeout",
    DEFAULT_IDLE_TIMEOUT,
    positive_seconds,
    "seconds a client has to send its whole request",
    "S",
)


WRITE_TIMEOUT = Setting(
    "write-timeout",
    DEFAULT_WRITE_TIMEOUT,
    positive_seconds,
    "seconds a client has to read its whole reply; then it is reset",
    "S",
)


def _transform_factory(reactor: Any, settings: Settings) -> IProtocolFactory:
    """Build the transform service's factory."""
    return TransformFactory(
        reactor,
        max_length=settings["max_length"],
        idle_timeout=settings["idle_timeout"],
        write_timeout=settings["write_timeout"],
    )


TRANSFORM = ServiceRecipe(
    tapname="poetry-transform",
    description="Transform poems on request: one netstring '<transform>.<poem>' in, one out.",
    settings=(MAX_LENGTH, IDLE_TIMEOUT, WRITE_TIMEOUT),
    build_factory=_transform_factory,
    default_port=10001,
)
"""The transform service."""


UPSTREAM = Setting(
    "upstream",
    None,
    parse_address,
    f"the poetry server to fetch from: {ADDRESS_FORMS}",
    "HOST:PORT",
    required=True,
)
CACHE_TTL = Setting(
    "cache-ttl",
    None,
    positive_seconds,
    "seconds a fetched poem stays cached (default: for ever)",
    "S",
)
UPSTREAM_TIMEOUT = Setting(
    "upstream-timeout",
    DEFAULT_UPSTREAM_TIMEOUT,
    positive_seconds,
    "seconds to wait for the upstream poem",
    "S",
)


FAILURE_TTL = Setting(
    "failure-ttl",
    DEFAULT_FAILURE_TTL,
    non_negative_seconds,
    "seconds a failed upstream fetch is remembered: clients in that time are reset at once,"
    " with no new fetch (0: every client starts a new fetch)",
    "S",
)


def _proxy_factory(reactor: Any, settings: Settings) -> IProtocolFactory:
    """Build the caching proxy's factory; an upstream that is the proxy itself is refused."""
    upstream: Address = settings["upstream"]
    if upstream is None:
        raise UsageError("--upstream is required")
    if listens_at(settings["listen"], upstream):
        raise UsageError(
            f"--upstream {upstream} is where this proxy listens (--listen {settings['listen']}):"
            " it would wait on itself; give the address of a poetry server"
        )
    timeout = settings["upstream_timeout"]

    def fetch() -> Deferred[bytes]:
        return get_poetry(
            reactor, upstream.host, upstream.port, timeout=timeout, max_bytes=settings["max_bytes"]
        )

    tally = summary_tally(reactor, "cache hits", "poetry.core.proxy", settings)
    cache = PoemCache(fetch, reactor, settings["cache_ttl"], settings["failure_ttl"], tally)
    return ProxyFactory(cache)


PROXY = ServiceRecipe(
    tapname="poetry-proxy",
    description="Serve an upstream poetry server's poem, fetched once and cached.",
    settings=(UPSTREAM, CACHE_TTL, UPSTREAM_TIMEOUT, MAX_BYTES, FAILURE_TTL),
    build_factory=_proxy_factory,
    default_port=10002,
)
"""The caching proxy."""
