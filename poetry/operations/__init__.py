"""Running the core's services in production: settings, endpoints, limits, shutdown, workers, logs.

Built on L{poetry.core} and used by the entry points (L{poetry.cli},
L{poetry.commands}, L{poetry.twistd}); it imports nothing from them. The
Twisted internals txpoetry relies on are used only through
L{poetry.operations.internals}.
"""
