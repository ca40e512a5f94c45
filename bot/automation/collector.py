"""Pausing Python's cyclic garbage collector around a sweep.

A sweep allocates a few hundred thousand short-lived objects (rows, notices, outbox rows) that
reference counting frees. Left running, the cyclic collector would walk the live ones again and
again, for up to a third of the sweep's time. Nested pauses are fine: only the outermost one turns
the collector back on, and only if it was on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
