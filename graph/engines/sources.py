"""What an engine reads its inputs from: files, directories and globs, as ingest's reader takes them.

An engine that reads other sources too (the Spark engine: catalogue tables and URIs such as
``s3a://``) overrides ``readable`` and copies such an input to files for the reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import EngineError

# An input named as a catalogue table (``table:db.signups``) or by a URI (``s3a://...``, ``file:///...``).
LAKE_SOURCE = re.compile(r"^(table:|[A-Za-z][A-Za-z0-9+.-]*://)")


class Sources:
    """``readable``: the part of the engine seam that hands ingest's reader its inputs."""

    name: str = "engine"

    @contextmanager
    def readable(self, path: str) -> Iterator[str]:
        """An input as ingest's reader takes it: a file, directory or glob, as given here. A table or a URI is
        refused, saying which engine reads it; an engine that reads them copies one to Parquet files for the
        block, and removes them after."""
        if LAKE_SOURCE.match(str(path)):
            raise EngineError(f"{path}: the {self.name} engine reads files, directories and globs; tables "
                              "(table:NAME) and URIs are read by the Spark engine (--engine spark)")
        yield path
