"""Tests for L{poetry.testing.ordering}: ties broken as added, or by a seed."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.ordering import Order
from tests.support.simulated import SimulatedTestCase


class OrderTests(SynchronousTestCase):
    """Without a seed, the order things were added; with one, an order drawn from it."""

    def test_as_added(self) -> None:
        """By default, ties are taken in the order they were added."""
        order = Order()
        self.assertEqual(order.arrange([1, 2, 3]), [1, 2, 3])
        self.assertEqual(order.pick([1, 2, 3]), 1)

    def test_seeded(self) -> None:
        """With a seed, the order is drawn from it: the same seed, the same order."""
        first, second = Order(), Order()
        first.shuffle(5)
        second.shuffle(5)
        draws = [first.arrange(range(10)) for _ in range(3)]
        self.assertEqual(draws, [second.arrange(range(10)) for _ in range(3)])
        self.assertNotEqual(draws[0], list(range(10)))
        self.assertEqual(sorted(draws[0]), list(range(10)))
        first.shuffle(None)
        self.assertEqual(first.arrange([1, 2]), [1, 2])

    def test_two_either_way(self) -> None:
        """With a seed, two things are taken in either order, and one is picked first or second."""
        order = Order()
        order.shuffle(0)
        arranged = {tuple(order.arrange([1, 2])) for _ in range(10)}
        picked = {order.pick([1, 2]) for _ in range(10)}
        self.assertEqual((arranged, picked), ({(1, 2), (2, 1)}, {1, 2}))

    def test_one_draws_nothing(self) -> None:
        """Taking one thing draws nothing from the seed: the draws after are the same."""
        first, second = Order(), Order()
        first.shuffle(4)
        second.shuffle(4)
        self.assertEqual((first.pick(["only"]), first.arrange(["only"])), ("only", ["only"]))
        self.assertEqual(
            [first.pick(range(5)) for _ in range(10)], [second.pick(range(5)) for _ in range(10)]
        )


class ShuffledNetworkTests(SimulatedTestCase):
    """A network told to shuffle runs a process's timers due together in a seeded order."""

    def fire_order(self, seed: int | None) -> list[int]:
        """Set five timers due at once; return the order they fired in."""
        self.setUp()
        self.network.shuffle(seed)
        fired: list[int] = []
        for n in range(5):
            self.server.reactor.callLater(1, fired.append, n)
        self.network.advance(1)
        return fired

    def test_timers_due_together(self) -> None:
        """Unshuffled, in the order set; shuffled, in an order drawn from the seed."""
        self.assertEqual(self.fire_order(None), [0, 1, 2, 3, 4])
        shuffled = self.fire_order(3)
        self.assertNotEqual(shuffled, [0, 1, 2, 3, 4])
        self.assertEqual(self.fire_order(3), shuffled)
        self.assertEqual(sorted(shuffled), [0, 1, 2, 3, 4])
