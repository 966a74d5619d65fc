"""The descriptors a simulated process's reactor polls: readers and writers, in the order added.

The network polls each process's descriptors as a real reactor's loop polls
its sockets: only those the kernel touched, or that read or wrote in the
last round, and each ready one reads or writes once per round.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IReadDescriptor, IWriteDescriptor
from twisted.python import log

from poetry.testing.ordering import Order
from poetry.testing.sockets import KernelSocket


class PolledDescriptors:
    """A reactor's reader and writer sets, polled by the network round by round."""

    _order: Order
    _readers: dict[Any, None]
    _writers: dict[Any, None]
    _woken: dict[Any, None]

    if TYPE_CHECKING:  # given by Twisted's _DisconnectSelectableMixin, in the reactor

        def _disconnectSelectable(self, selectable: Any, why: Any, isRead: bool) -> None: ...

    def addReader(self, reader: IReadDescriptor) -> None:
        """Poll ``reader``'s socket for reading."""
        self._readers[reader] = None  # pragma: no mutate (values never read)
        self.wake(reader)

    def addWriter(self, writer: IWriteDescriptor) -> None:
        """Poll ``writer``'s socket for writing."""
        self._writers[writer] = None  # pragma: no mutate (values never read)
        self.wake(writer)

    def wake(self, selectable: Any) -> None:
        """Poll ``selectable`` on the next round: its socket may be ready."""
        self._woken[selectable] = None  # pragma: no mutate (values never read)

    def removeReader(self, reader: IReadDescriptor) -> None:
        """Stop polling ``reader``."""
        self._readers.pop(reader, None)

    def removeWriter(self, writer: IWriteDescriptor) -> None:
        """Stop polling ``writer``."""
        self._writers.pop(writer, None)

    def removeAll(self) -> list[IReadDescriptor | IWriteDescriptor]:
        """Stop polling anything; return what was polled."""
        every = list(dict.fromkeys([*self._readers, *self._writers]))
        self._readers.clear()
        self._writers.clear()
        return every

    def getReaders(self) -> list[IReadDescriptor]:
        """What is polled for reading."""
        return list(self._readers)

    def getWriters(self) -> list[IWriteDescriptor]:
        """What is polled for writing."""
        return list(self._writers)

    def poll(self) -> bool:
        """Let each descriptor whose socket is ready read or write once; return whether any did.

        Only descriptors whose sockets may be ready are looked at: those the
        kernel touched or that were added since the last round, and those that
        read or wrote in it (a socket stays ready until drained, as epoll's
        level-triggered readiness does).
        """
        if not self._woken:
            return False
        woken, self._woken = self._woken, {}
        moved = False
        for selectable in self._order.arrange(list(woken)):
            if self._serve(selectable):
                moved = True
                self._woken[selectable] = None  # pragma: no mutate (values never read)
        return moved

    def _serve(self, selectable: Any) -> bool:
        """Read or write once, as a real reactor's loop does when the socket is ready."""
        sock = getattr(selectable, "socket", None)
        if not isinstance(sock, KernelSocket):
            return False
        why, is_read, served = None, False, False  # pragma: no mutate (is_read: set again)
        try:
            if selectable in self._readers and sock.readable():
                is_read = served = True
                why = selectable.doRead()
            if not why and selectable in self._writers and sock.writable():
                is_read, served = False, True
                why = selectable.doWrite()
        except BaseException:
            why = sys.exc_info()[1]
            log.err()
        if why:
            self._disconnectSelectable(selectable, why, is_read)
        return served
