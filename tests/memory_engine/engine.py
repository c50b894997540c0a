"""The smallest engine: tables as pandas DataFrames in a dict, everything else from the base class.

It supplies only the seam's primitives (a unit of work, the record store, the result
store); every question is answered by the base class's reference implementations, and
the algorithms run in process. Stores live as long as the process, keyed by location, so
a command that opens the engine twice (as `ringwatch demo` does) finds its data again.
"""

from __future__ import annotations

import pandas as pd

from ringwatch.graph.engines.base import Engine
from ringwatch.graph.engines.columns import TABLES


class MemoryEngine(Engine):
    """Tables in memory; a unit of work is a snapshot to go back to."""

    name = "memory"
    stores: dict[str, dict] = {}

    def __init__(self, location=None):
        super().__init__()
        self.store = self.stores.setdefault(str(location), {"tables": {}, "results": {}})
        self.snapshot = None

    def close(self) -> None:
        self.snapshot = None

    def _begin(self) -> None:
        self.snapshot = {part: dict(frames) for part, frames in self.store.items()}

    def _commit(self) -> None:
        self.snapshot = None

    def _rollback(self) -> None:
        self.store.update(self.snapshot)
        self.snapshot = None

    def _table(self, table: str) -> pd.DataFrame:
        return self.store["tables"].get(table, pd.DataFrame(columns=self._check_table(table)))

    def _insert(self, table, frame):
        old = self._table(table)
        rows = frame[TABLES[table]].reset_index(drop=True)
        self.store["tables"][table] = rows if old.empty else pd.concat([old, rows], ignore_index=True)

    def _matches(self, frame: pd.DataFrame, keys: pd.DataFrame) -> pd.Series:
        wanted = pd.MultiIndex.from_frame(keys.astype(str))
        return pd.Series(pd.MultiIndex.from_frame(frame[list(keys.columns)].astype(str)).isin(wanted),
                         index=frame.index)

    def _select(self, table, keys=None, columns=None, order=None):
        frame = self._table(table)
        if keys is not None:
            frame = frame[self._matches(frame, keys)]
        if order:
            frame = frame.sort_values(order, kind="stable")
        return frame[columns or TABLES[table]].reset_index(drop=True)

    def _delete(self, table, keys=None) -> int:
        frame = self._table(table)
        gone = pd.Series(True, index=frame.index) if keys is None else self._matches(frame, keys)
        self.store["tables"][table] = frame[~gone].reset_index(drop=True)
        return int(gone.sum())

    def _write_results(self, tables):
        self.store["results"].update({name: frame.copy() for name, frame in tables.items()})

    def _read_result(self, name):
        frame = self.store["results"].get(name)
        return None if frame is None else frame.copy()

    def _drop_results(self) -> None:
        self.store["results"].clear()
