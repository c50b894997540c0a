"""The append-only ledgers (decisions, queue actions, batches, exports, lineage, audit), built once on the record
store's primitives (``_select``, ``_insert``, a unit of work) for every engine."""

from __future__ import annotations

import pandas as pd

from .columns import LEDGERS
from .errors import EngineError
from .records import keys_frame, ledger_bodies, ledger_frame


class Ledgers:
    """Ledger reading and appending for ``Engine``; an engine may override ``_next_seq`` with a native query."""

    @staticmethod
    def _check_ledger(ledger: str) -> None:
        if ledger not in LEDGERS:
            raise EngineError(f"unknown ledger {ledger!r}; ledgers: {', '.join(LEDGERS)}")

    def _next_seq(self, ledger: str) -> int:
        """The sequence number the ledger's next row gets."""
        seqs = self._select("ledger", keys_frame(ledger=[ledger]), ["seq"])["seq"]
        return int(seqs.max()) + 1 if len(seqs) else 0

    def append_records(self, ledger: str, frame: pd.DataFrame) -> list[int]:
        """Append rows to a ledger (one of ``LEDGERS``); returns the sequence numbers given to them.

        Append-only: rows are never updated or deleted (``clear_store`` wipes the store). Each row
        is canonical JSON text (``ledger_bodies``; timestamps as ISO text) under ``(ledger, seq)``,
        ``seq`` counting 0, 1, 2, ... per ledger; the store refuses a clashing ``(ledger, seq)``.
        """
        self._check_ledger(ledger)
        bodies = ledger_bodies(frame)
        if not bodies:
            return []
        with self.transaction():
            start = self._next_seq(ledger)
            seqs = list(range(start, start + len(bodies)))
            self._insert("ledger", pd.DataFrame({"ledger": ledger, "seq": seqs, "body": bodies}))
        return seqs

    def ledger_version(self) -> tuple[int, ...]:
        """Each ledger's next sequence number, in ``LEDGERS`` order: it changes with every append, and only then."""
        return tuple(self._next_seq(ledger) for ledger in LEDGERS)

    def records(self, ledger: str, containing: str | None = None) -> pd.DataFrame:
        """A ledger's rows in append order: ``seq`` plus the columns the rows were appended with; with
        ``containing``, only the rows whose stored text holds it (found before any row is parsed)."""
        self._check_ledger(ledger)
        rows = self._select("ledger", keys_frame(ledger=[ledger]), ["seq", "body"], order=["seq"])
        if containing is not None:
            rows = rows[rows["body"].str.contains(containing, regex=False).to_numpy(dtype=bool)]
        return ledger_frame(rows["seq"].tolist(), rows["body"].tolist())
