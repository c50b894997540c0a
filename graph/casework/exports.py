"""Exports: accounts, rings and the ban list, as CSV safe to open in a spreadsheet, and their audit records.

A ban list or a ring's members leaving the store is an analyst action: ``audited_csv``
records the export (who, what selection, the content's SHA-256) in the audit log before
the dashboard hands the bytes over. A file written here (``export_bans``) is recorded only
once its bytes are on disk, so an entry never names a file that was not written.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd

from ringwatch.files import write_file

from ..engines import Engine
from . import audit, bans
from .analysts import analyst_id

ACCOUNT_COLUMNS = ["account_id", "ring_id", "risk_score", "flagged", "reasons"]
RING_COLUMNS = ["ring_id", "size", "risk_score", "first_seen", "last_seen", "top_evidence"]
BAN_COLUMNS = ["account_id", "ring_id", "risk_score", "reasons"]

# A cell starting with one of these is run as a formula by spreadsheet programs (OWASP
# "CSV injection"); prefixing a single quote makes it text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value):
    """Make a cell inert for spreadsheets: text starting with a formula character gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _format(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if col == "risk_score":
            out[col] = out[col].map(lambda x: f"{float(x):.4f}")
        elif col == "flagged":
            out[col] = out[col].map(lambda x: "true" if bool(x) else "false")
        elif col in ("first_seen", "last_seen"):
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            out[col] = out[col].map(lambda x: "" if x is None or (isinstance(x, float) and pd.isna(x)) else neutralise(str(x)))
    return out


def accounts_table(engine: Engine) -> pd.DataFrame:
    """One row per account, contract columns, ordered by account id."""
    return engine.results("accounts")[ACCOUNT_COLUMNS].sort_values("account_id").reset_index(drop=True)


def rings_table(engine: Engine) -> pd.DataFrame:
    """One row per flagged ring, highest risk first."""
    rings = engine.results("rings")
    if rings.empty:
        return pd.DataFrame(columns=RING_COLUMNS)
    rings = rings[rings["flagged"].astype(bool)]
    return rings.sort_values(["risk_score", "ring_id"], ascending=[False, True])[RING_COLUMNS].reset_index(drop=True)


def bans_table(engine: Engine, rings=None, min_score: float | None = None, max_score: float | None = None,
               include_banned: bool = False) -> pd.DataFrame:
    """The ban list: flagged accounts, optionally only some rings or a score range; deterministic order.

    Accounts banned now are left out unless ``include_banned``: a ban list is what to ban
    next. How many were left out is in ``table.attrs["already_banned"]``.
    """
    acc = engine.results("accounts")
    acc = acc[acc["flagged"].astype(bool)]
    if rings:
        acc = acc[acc["ring_id"].isin(list(rings))]
    if min_score is not None:
        acc = acc[acc["risk_score"] >= min_score]
    if max_score is not None:
        acc = acc[acc["risk_score"] <= max_score]
    banned = acc["account_id"].isin(bans.banned_now(engine).index)
    if not include_banned:
        acc = acc[~banned]
    acc = acc.sort_values(["risk_score", "account_id"], ascending=[False, True])
    table = acc[BAN_COLUMNS].reset_index(drop=True)
    table.attrs["already_banned"] = 0 if include_banned else int(banned.sum())
    return table


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as formula-safe CSV, UTF-8: exactly the bytes ``write_csv`` writes."""
    return _format(frame).to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | Path) -> int:
    """Write a table as formula-safe CSV, whole or not at all (``write_file``); returns rows written."""
    write_file(path, csv_bytes(frame))
    return len(frame)


def record_export(engine: Engine, analyst: str, content: bytes, rows: int, destination: str,
                  batch_id: str | None = None, selection: dict | None = None, what: str = "bans") -> dict:
    """Append an export to the audit log: of a batch, or of an ad-hoc ``what`` (bans, members) selection."""
    analyst = analyst_id(analyst, "an export")
    row = {"batch_id": batch_id, "what": "batch" if batch_id else what, "selection": selection,
           "content_hash": hashlib.sha256(content).hexdigest(), "path": destination, "rows": rows, "analyst": analyst}
    return audit.record(engine, "exports", "export_batch" if batch_id else f"export_{what}", analyst, [row])[0]


def audited_csv(engine: Engine, analyst: str, table: pd.DataFrame, what: str, selection: dict,
                destination: str) -> tuple[bytes, dict]:
    """A table as formula-safe CSV bytes, recorded in the audit log first; returns (bytes, the export record)."""
    content = csv_bytes(table)
    return content, record_export(engine, analyst, content, len(table), destination, selection=selection, what=what)


def ban_selection(rings=None, min_score: float | None = None, max_score: float | None = None,
                  include_banned: bool = False) -> dict:
    """A ban-list selection as the audit log records it."""
    return {"rings": sorted(rings or ()), "min_score": min_score, "max_score": max_score,
            "include_banned": bool(include_banned)}


def export_bans(engine: Engine, analyst: str, out, rings=None, min_score: float | None = None,
                max_score: float | None = None, include_banned: bool = False) -> dict:
    """Write the ban list for a selection to ``out``, then record it in the audit log; returns the export record."""
    analyst_id(analyst, "an export")
    table = bans_table(engine, list(rings or ()) or None, min_score, max_score, include_banned)
    selection = ban_selection(rings, min_score, max_score, include_banned)
    content = csv_bytes(table)
    write_file(out, content)
    return record_export(engine, analyst, content, len(table), str(out), selection=selection, what="bans")
