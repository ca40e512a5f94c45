"""Turns at the interpreter: at most a few threads at a time run a click's work, up to its first Slack call.

All the threads of a process share one interpreter lock. After a burst of clicks the work pools (a
click's change and card, then what follows the card) have every thread ready to run at once, and
each ack queues behind all of them for that lock. So the work runs in turns: a thread takes one of
`size` turns before its work starts, and gives it back as soon as the work first calls Slack
(bot.slack.client.TurnClient), where it would only wait, or when the work ends.

A thread never takes a turn again for the same work. Whatever it holds by then (a card being
drawn, a database row) is held by a thread that runs on without waiting for a turn, so no two
threads can end up waiting on each other through the turns.

It imports the standard library only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

_held = threading.local()


class Turns:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one turn")
        self._slots = threading.BoundedSemaphore(size)

    def run(self, work: Callable[[], T]) -> T:
        """Run `work` in a turn: wait for one, hold it until `work` first calls Slack or ends.

        A thread that holds a turn already (work run from within work) runs it in that turn."""
        if holding():
            return work()
        self._slots.acquire()
        _held.slots = self._slots
        try:
            return work()
        finally:
            give_back()


def holding() -> bool:
    """Whether the calling thread holds a turn."""
    return getattr(_held, "slots", None) is not None


def give_back() -> None:
    """Give back the calling thread's turn, if it holds one: it is about to wait on Slack."""
    slots = getattr(_held, "slots", None)
    if slots is not None:
        _held.slots = None
        slots.release()


class InTurns(Executor):
    """An executor whose every task runs in a turn of `turns`, on the threads of `pool`."""

    def __init__(self, pool: Executor, turns: Turns) -> None:
        self._pool = pool
        self._turns = turns

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self._pool.submit(self._turns.run, partial(fn, *args, **kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
