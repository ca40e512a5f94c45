"""Card redraws in the order of the states they show.

Two changes to one onboarding can commit one after the other while their redraws reach Slack the
other way round, and the card would then show the older state until the next change. Each record
read under the onboarding's lock carries a stamp, the onboarding's revision (store.onboardings.load);
a card is drawn from a record only if no later one of it has been drawn already, one draw of a card
at a time. This keeps the order among one process's threads without asking the database; across
replicas, store.card_draws keeps it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

REMEMBERED = 4096  # cards whose last stamp is kept; a card drawn longer ago has no draw still in flight


class Draws:
    def __init__(self, remembered: int = REMEMBERED) -> None:
        self._guard = threading.Lock()
        self._busy: dict[Hashable, tuple[threading.Lock, int]] = {}  # the card's lock and how many wait on it
        self._shown: OrderedDict[Hashable, int] = OrderedDict()
        self._remembered = remembered

    def forget(self) -> None:
        """Forget the order of every card not being drawn now (when the cards it knew are gone,
        as when a workspace is emptied and its channels start over)."""
        with self._guard:
            self._shown.clear()

    def draw(self, card: Hashable, stamp: int, send: Callable[[], object]) -> bool:
        """Run `send` unless a record later than `stamp` has been drawn on `card`; whether it ran.

        A record without a stamp (0) is always drawn, and leaves the order as it was."""
        with self._guard:
            lock, waiting = self._busy.get(card) or (threading.Lock(), 0)
            self._busy[card] = (lock, waiting + 1)
        try:
            with lock:
                with self._guard:
                    if stamp and stamp < self._shown.get(card, 0):
                        return False
                send()
                if stamp:
                    with self._guard:
                        self._shown[card] = max(stamp, self._shown.get(card, 0))
                        self._shown.move_to_end(card)
                        while len(self._shown) > self._remembered:
                            self._shown.popitem(last=False)
                return True
        finally:
            with self._guard:
                lock, waiting = self._busy[card]
                if waiting == 1:
                    del self._busy[card]
                else:
                    self._busy[card] = (lock, waiting - 1)
