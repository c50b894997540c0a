"""Usage days computed by forked worker processes and handed back in day order.

Each day seeds its own generator, so days can be computed in any order and still come
out identical; the caller writes them (and draws its own dirty rows) in day order.
Workers are forked, so they share the population read-only instead of receiving a
pickled copy, and only finished day tables travel back. At most ``workers + 1`` days are
in flight, which bounds the memory they hold.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyarrow as pa

_day = None  # the day function; set before the fork so workers inherit it


def _run(d: int) -> pa.Table:
    return _day(d)


@contextmanager
def ordered_days(day: Callable[[int], pa.Table], days: int,
                 workers: int) -> Iterator[Iterator[pa.Table]]:
    """Tables ``day(0)``, ``day(1)``, … in order; with workers > 1 they start at once.

    Work started here runs while the caller does other things inside the block.
    """
    global _day
    if workers <= 1 or days <= 1:
        yield map(day, range(days))
        return
    _day = day
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            ahead = deque(pool.apply_async(_run, (d,)) for d in range(min(days, workers + 1)))

            def in_order() -> Iterator[pa.Table]:
                following = len(ahead)
                while ahead:
                    table = ahead.popleft().get()
                    if following < days:
                        ahead.append(pool.apply_async(_run, (following,)))
                        following += 1
                    yield table

            yield in_order()
    finally:
        _day = None
