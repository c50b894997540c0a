"""The tamper-evident audit log: every decision, ban batch, approval, export, unban, model and policy change.

Each action is appended twice in one unit of work: to its own ledger (``decisions``,
``batches``, ...), the row carrying ``audit_seq``, and to the ``audit`` ledger as an entry
``{action, ledger, analyst, at, details, prev_hash, hash}``. ``hash`` is the SHA-256 of the
canonical JSON (sorted keys, no spaces) of the entry without ``hash``, so it covers the
previous entry's hash: editing, removing or reordering any entry breaks the chain from
there on, and ``verify`` names the first entry that no longer fits.

``verify`` also checks both directions between the log and the ledgers: every row of every
audited ledger has its entry, with the same content, and every entry has its row. So
deleting a batch (which would lift its bans) or the last entry of an action is caught.

What the chain alone cannot catch: someone with write access to the store who cuts the
log's tail together with its ledger rows, or rewrites history and recomputes every hash
after it. Two things close that: ``head`` prints the current last entry's hash, to be kept
outside the store (a ticket, a chat message, a log shipper), and ``verify(head=HASH)``
proves that entry is still in the chain, unchanged, so nothing up to it was cut or
re-chained; and with ``RINGWATCH_AUDIT_KEY`` set, entries are sealed with HMAC-SHA256 under
that key instead of a bare hash, so re-chaining needs the key (an entry records that it
is keyed; once one is, verification with the key refuses unkeyed entries after it).
Nothing protects what happened after the last head kept elsewhere from someone holding
both the store and the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ringwatch.settings import SETTINGS

from ..engines import Engine

GENESIS = "0" * 64
ENTRY_FIELDS = ("action", "ledger", "analyst", "at", "details", "prev_hash")
# The ledgers whose every row is an audited action.
AUDITED = ("decisions", "batches", "approvals", "exports", "unbans", "models", "policy", "queue")


def canonical(value) -> str:
    """Canonical JSON: sorted keys, no whitespace, non-JSON values as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _key() -> bytes | None:
    key = SETTINGS["audit_key"].value()
    return key.encode() if key else None


def is_keyed(entry: dict) -> bool:
    """Whether an entry is sealed with the audit key (entries read back carry NaN where the field is absent)."""
    value = entry.get("keyed")
    return isinstance(value, (bool, np.bool_)) and bool(value)


def entry_hash(entry: dict, key: bytes | None = None) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (which include the previous hash); HMAC-SHA256 when keyed."""
    fields = {k: entry.get(k) for k in ENTRY_FIELDS}
    if is_keyed(entry):
        fields["keyed"] = True
        if key is None:
            raise ValueError("keyed entry: the audit key is needed")
        return hmac.new(key, canonical(fields).encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def now_text() -> str:
    """The current UTC time as ISO text, the form ledgers store."""
    return pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(engine: Engine, ledger: str, action: str, analyst: str, rows: list[dict], at: str | None = None) -> list[dict]:
    """Append rows to ``ledger`` and one chained audit entry per row, all or nothing; returns the rows stored."""
    at = at or now_text()
    key = _key()
    with engine.transaction():
        log = engine.records("audit")
        prev = log["hash"].iloc[-1] if len(log) else GENESIS
        next_seq = int(log["seq"].iloc[-1]) + 1 if len(log) else 0
        entries, stored = [], []
        for i, row in enumerate(rows):
            row = {**row, "audit_seq": next_seq + i}
            entry = {"action": action, "ledger": ledger, "analyst": analyst, "at": at,
                     "details": json.loads(canonical(row)), "prev_hash": prev}
            if key:
                entry["keyed"] = True
            entry["hash"] = prev = entry_hash(entry, key)
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
    head: str = GENESIS
    anchored: bool = False

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.reason

    def message(self) -> str:
        """One line for the command line."""
        if self.ok:
            return (f"audit log intact: {self.entries} entries, hash chain verified, every ledger row and entry "
                    "matched" + ("; the given head is in the chain" if self.anchored else ""))
        if self.first_bad is None:
            return f"audit log not intact: {self.reason}"
        return f"audit log entry {self.first_bad} is not what was recorded: {self.reason}"


def head(engine: Engine) -> tuple[int, str]:
    """The last entry's sequence number and hash (-1 and the genesis hash for an empty log), to keep elsewhere."""
    log = engine.records("audit")
    if log.empty:
        return -1, GENESIS
    return int(log["seq"].iloc[-1]), str(log["hash"].iloc[-1])


def verify(engine: Engine, head_hash: str | None = None) -> Verification:
    """Recompute the hash chain, match every audited ledger row with its entry both ways, and find ``head_hash``.

    ``head_hash`` is a hash ``head`` printed earlier: it must still be in the chain.
    """
    entries = engine.records("audit").to_dict("records")
    key = _key()
    bad = _chain(entries, key)
    if bad:
        return Verification(len(entries), *bad)
    if key is not None and entries and not any(is_keyed(e) for e in entries):
        return Verification(len(entries), None, "RINGWATCH_AUDIT_KEY is set but no entry is sealed with it: the log "
                            "was re-chained without the key, or nothing was recorded since the key was set")
    by_seq = {int(e["seq"]): e for e in entries}
    last = entries[-1]["hash"] if entries else GENESIS
    for ledger in AUDITED:
        seen: set[int] = set()
        for row in engine.records(ledger).to_dict("records"):
            row.pop("seq")
            row = {k: v for k, v in row.items() if not _missing(v)}
            seq = int(row.get("audit_seq", -1))
            entry = by_seq.get(seq)
            if entry is None:
                return Verification(len(entries), None, f"a {ledger} ledger row (audit entry {seq}) has no audit entry: "
                                    "the log was cut or the row was added outside ringwatch", last)
            details = {k: v for k, v in entry.get("details", {}).items() if v is not None}
            if entry.get("ledger") != ledger or seq in seen or canonical(details) != canonical(row):
                return Verification(len(entries), seq, f"the {ledger} ledger row differs from the audit entry", last)
            seen.add(seq)
        for seq, entry in by_seq.items():
            if entry.get("ledger") == ledger and seq not in seen:
                return Verification(len(entries), seq, f"its {ledger} ledger row is missing (deleted)", last)
    if head_hash is not None:
        wanted = head_hash.strip().lower()
        if wanted != GENESIS and not any(e["hash"] == wanted for e in entries):
            return Verification(len(entries), None, f"the head {wanted[:16]}... kept earlier is not in the chain: "
                                "entries were cut or the log was re-chained after it", last)
    return Verification(len(entries), head=last, anchored=head_hash is not None)


def _chain(entries: list[dict], key: bytes | None) -> tuple[int, str] | None:
    """The first entry that breaks the chain and why, or None."""
    prev, keyed = GENESIS, False
    for expected_seq, entry in enumerate(entries):
        seq = int(entry["seq"])
        if seq != expected_seq:
            return expected_seq, "entry missing"
        if entry.get("prev_hash") != prev:
            return seq, "does not follow the previous entry's hash"
        if is_keyed(entry):
            if key is None:
                return seq, "it is sealed with the audit key: set RINGWATCH_AUDIT_KEY to verify it"
            keyed = True
        elif keyed and key is not None:
            return seq, "an unkeyed entry after keyed ones: the log was re-chained without the key"
        if not hmac.compare_digest(entry_hash(entry, key), str(entry.get("hash"))):
            return seq, "its content does not match its hash" + (" under this audit key" if is_keyed(entry) else "")
        prev = entry["hash"]
    return None


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)
