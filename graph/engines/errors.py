"""The engine seam's own exceptions: nothing outside ``graph/engines`` sees a database driver's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class EngineError(Exception):
    """The engine cannot do what was asked (unreachable, misconfigured, no data, a store error)."""


class NotSupported(EngineError):
    """The engine does not offer this capability (the message names the engine and the capability)."""


NO_RESULTS = "no detection results in this store yet: run `ringwatch detect` first"


@contextmanager
def secondary_to(cause: BaseException) -> Iterator[None]:
    """Clean up after ``cause`` (roll back, say); if the clean-up fails too, ``cause`` is still what is reported.

    A store that ended the unit of work itself (DuckDB after a write failed on a full disk)
    refuses the rollback, and its "no transaction is active" would hide why the work failed:
    the clean-up's error goes on ``cause`` as a note instead.
    """
    try:
        yield
    except EngineError as failed:
        cause.add_note(f"cleaning up afterwards failed too: {failed}")
