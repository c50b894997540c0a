"""The tamper-evident audit log: every decision, ban batch, approval, export and unban.

Each action is appended twice in one unit of work: to its own ledger (``decisions``,
``batches``, ...), the row carrying ``audit_seq``, and to the ``audit`` ledger as an entry
``{action, ledger, analyst, at, details, prev_hash, hash}``. ``hash`` is the SHA-256 of the
canonical JSON (sorted keys, no spaces) of the entry without ``hash``, so it covers the
previous entry's hash: editing, removing or reordering any entry breaks the chain from
there on, and ``verify`` names the first entry that no longer fits. A ledger row that no
longer matches its audit entry is reported too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd

from ..engines import Engine

GENESIS = "0" * 64
ENTRY_FIELDS = ("action", "ledger", "analyst", "at", "details", "prev_hash")


def canonical(value) -> str:
    """Canonical JSON: sorted keys, no whitespace, non-JSON values as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(entry: dict) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (which include the previous hash)."""
    return hashlib.sha256(canonical({k: entry.get(k) for k in ENTRY_FIELDS}).encode()).hexdigest()


def now_text() -> str:
    """The current UTC time as ISO text, the form ledgers store."""
    return pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(engine: Engine, ledger: str, action: str, analyst: str, rows: list[dict], at: str | None = None) -> list[dict]:
    """Append rows to ``ledger`` and one chained audit entry per row, all or nothing; returns the rows stored."""
    at = at or now_text()
    with engine.transaction():
        log = engine.records("audit")
        prev = log["hash"].iloc[-1] if len(log) else GENESIS
        next_seq = int(log["seq"].iloc[-1]) + 1 if len(log) else 0
        entries, stored = [], []
        for i, row in enumerate(rows):
            row = {**row, "audit_seq": next_seq + i}
            entry = {"action": action, "ledger": ledger, "analyst": analyst, "at": at,
                     "details": json.loads(canonical(row)), "prev_hash": prev}
            entry["hash"] = prev = entry_hash(entry)
            entries.append(entry)
            stored.append(row)
        engine.append_records(ledger, pd.DataFrame(stored))
        seqs = engine.append_records("audit", pd.DataFrame(entries))
        if seqs and seqs[0] != next_seq:
            raise RuntimeError("the audit log moved while appending; nothing was stored")
    return stored


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: entries checked, and the first bad one (None when all fit)."""

    entries: int
    first_bad: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    def message(self) -> str:
        """One line for the command line."""
        if self.ok:
            return f"audit log intact: {self.entries} entries, hash chain verified"
        return f"audit log entry {self.first_bad} is not what was recorded: {self.reason}"


def verify(engine: Engine) -> Verification:
    """Recompute the hash chain and compare every ledger row with its audit entry."""
    log = engine.records("audit")
    prev = GENESIS
    entries = log.to_dict("records")
    for expected_seq, entry in enumerate(entries):
        seq = int(entry["seq"])
        if seq != expected_seq:
            return Verification(len(entries), expected_seq, "entry missing")
        if entry.get("prev_hash") != prev:
            return Verification(len(entries), seq, "does not follow the previous entry's hash")
        if entry_hash(entry) != entry.get("hash"):
            return Verification(len(entries), seq, "its content does not match its hash")
        prev = entry["hash"]
    by_seq = {int(e["seq"]): e for e in entries}
    for ledger in sorted({e["ledger"] for e in entries}):
        for row in engine.records(ledger).to_dict("records"):
            row.pop("seq")
            row = {k: v for k, v in row.items() if not _missing(v)}
            entry = by_seq.get(int(row.get("audit_seq", -1)))
            details = {k: v for k, v in (entry or {}).get("details", {}).items() if v is not None}
            if entry is None or canonical(details) != canonical(row):
                seq = int(row.get("audit_seq", -1))
                return Verification(len(entries), seq, f"the {ledger} ledger row differs from the audit entry")
    return Verification(len(entries))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)
