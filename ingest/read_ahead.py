"""Reading ahead: the next batch is read and validated while the caller stores this one.

Validation is Python and Arrow work; storing a batch is the database's work, which runs
without Python's global lock. Doing both at once keeps two cores busy. At most ``depth``
batches wait, so memory stays bounded. The batches come in the same order, and an error
raised while reading is raised to the caller at the point where that batch would have
come.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_WAIT = 0.1  # seconds between checks that the reader should stop


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield ``items`` in order while a thread produces up to ``depth`` more ahead."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=_WAIT)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer and raised there
            put(_Failed(error))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name="ringwatch-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = waiting.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()
