"""The forms records travel in across the engine seam: load outcomes, ledger rows as JSON text, key frames."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class LoadResult:
    """What a load did: rows newly stored, rows already present (re-runs), conflicting rows."""

    loaded: int
    duplicates: int = 0


def ledger_bodies(frame: pd.DataFrame) -> list[str]:
    """Ledger rows as canonical JSON text (sorted keys), the form every engine stores."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [json.dumps(row, sort_keys=True, separators=(",", ":"), default=str) for row in rows]


def ledger_frame(seqs: list[int], bodies: list[str]) -> pd.DataFrame:
    """Stored ledger rows back as a DataFrame: ``seq`` first, then the row's own columns."""
    rows = [{"seq": int(s), **json.loads(b)} for s, b in zip(seqs, bodies)]
    # Object columns keep each value as stored (an int stays an int next to a missing value).
    return pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame({"seq": pd.Series(dtype="int64")})


def keys_frame(**columns) -> pd.DataFrame:
    """A frame of key values for ``_select`` / ``_delete`` (every value as text)."""
    return pd.DataFrame({name: [str(v) for v in values] for name, values in columns.items()})


def matching(frame: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` whose ``keys.columns`` values (compared as text) match a row of ``keys``."""
    wanted = pd.MultiIndex.from_frame(keys.astype(str))
    return frame[pd.MultiIndex.from_frame(frame[list(keys.columns)].astype(str)).isin(wanted)].reset_index(drop=True)
