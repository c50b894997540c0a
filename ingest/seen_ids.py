"""The account ids one ingest call has seen, found again in time that grows with the batch, not the file.

Each id is kept once, in the order first seen (its position), and found by its 64-bit hash
in a few sorted runs: a batch's new ids form a run, and two runs are merged when the newer
is as large as the one before (at most log2 of the batches remain),
so finding a batch costs a binary search per run and keeping ids costs O(n log n) in all.
(Looking ids up in one growing index rebuilt per batch cost time quadratic in the file:
9 s per batch at 4 million ids.) A found id is compared as text with the one stored, so a
hash collision never merges two accounts; should one ever occur, lookups switch to an
exact dictionary of every id for the rest of the call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def id_hashes(ids: pd.Series) -> np.ndarray:
    """64-bit hash of each id (pandas' own, stable within a process)."""
    return pd.util.hash_pandas_object(ids, index=False).to_numpy()


class SeenIds:
    """Ids in first-seen order, looked up by value."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, positions)
        self._ids: list[pa.Array] = []
        self._starts: list[int] = []
        self._count = 0
        self._exact: dict[str, int] | None = None

    def __len__(self) -> int:
        return self._count

    def lookup(self, ids: pd.Series, hashes: np.ndarray) -> np.ndarray:
        """Position of each id among those kept, or -1 for an id not seen before."""
        if self._exact is not None:
            get = self._exact.get
            return np.fromiter((get(i, -1) for i in ids.tolist()), dtype=np.int64, count=len(ids))
        found = np.full(len(ids), -1, dtype=np.int64)
        for run_hashes, run_positions in self._runs:
            at = np.minimum(np.searchsorted(run_hashes, hashes), len(run_hashes) - 1)
            hit = run_hashes[at] == hashes
            found[hit] = run_positions[at[hit]]
        where = np.flatnonzero(found >= 0)
        if len(where):
            stored = self._take(found[where])
            asked = pa.array(ids.iloc[where], type=pa.string(), from_pandas=True)
            if not pc.all(pc.equal(stored, asked)).as_py():
                self._to_exact()
                return self.lookup(ids, hashes)
        return found

    def add(self, ids: pd.Series, hashes: np.ndarray) -> None:
        """Keep these ids (not seen before, and distinct) after those already kept."""
        if not len(ids):
            return
        positions = np.arange(self._count, self._count + len(ids), dtype=np.int64)
        self._ids.append(pa.array(ids, type=pa.string(), from_pandas=True))
        self._starts.append(self._count)
        self._count += len(ids)
        if self._exact is not None:
            self._exact.update(zip(ids.tolist(), positions.tolist()))
            return
        order = np.argsort(hashes, kind="stable")
        self._runs.append((hashes[order], positions[order]))
        while len(self._runs) > 1 and len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            (h1, p1), (h2, p2) = self._runs.pop(-2), self._runs.pop()
            merged_hashes = np.concatenate([h1, h2])
            order = np.argsort(merged_hashes, kind="stable")
            self._runs.append((merged_hashes[order], np.concatenate([p1, p2])[order]))
        last = self._runs[-1][0]
        if len(last) > 1 and (last[1:] == last[:-1]).any():
            self._to_exact()  # two distinct ids share a hash

    def _take(self, positions: np.ndarray) -> pa.Array:
        """The kept ids at these positions, in this order."""
        chunk = np.searchsorted(np.asarray(self._starts), positions, side="right") - 1
        out = np.empty(len(positions), dtype=object)
        for c in np.unique(chunk):
            at = np.flatnonzero(chunk == c)
            out[at] = self._ids[c].take(pa.array(positions[at] - self._starts[c])).to_numpy(zero_copy_only=False)
        return pa.array(out, type=pa.string())

    def _to_exact(self) -> None:
        self._exact = {}
        for chunk, start in zip(self._ids, self._starts):
            self._exact.update(zip(chunk.to_pylist(), range(start, start + len(chunk))))
        self._runs = []
