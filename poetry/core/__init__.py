"""The tutorial's poetry services: servers, clients, the transform service, the caching proxy.

Everything here is a protocol, a factory or a client function that takes its
reactor (and clock) as a parameter, as in the Twisted tutorial it descends
from. It imports nothing from the rest of txpoetry: the operations layer
(L{poetry.operations}) and the entry points (L{poetry.cli}, L{poetry.twistd})
are built on it, never the other way round.
"""
