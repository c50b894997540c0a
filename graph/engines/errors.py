"""The engine seam's own exceptions: nothing outside ``graph/engines`` sees a database driver's errors."""

from __future__ import annotations


class EngineError(Exception):
    """The engine cannot do what was asked (unreachable, misconfigured, no data, a store error)."""


class NotSupported(EngineError):
    """The engine does not offer this capability (the message names the engine and the capability)."""


NO_RESULTS = "no detection results in this store yet: run `ringwatch detect` first"
