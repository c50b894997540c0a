"""The Overview's precomputed result tables: accounts, requests and output tokens counted by flagged status.

Counting these takes every account's signup time and usage, so detection counts them once
per run and saves them with its other results (``detection.pipeline``); the Overview then
reads a few hundred rows instead of every account. A false-positive decision that unflags
accounts between runs moves just those accounts from "flagged" to "not flagged" in the
same tables (``shifted``), so they always agree with the stored ``accounts`` results.

- ``traffic``: status, accounts, requests, output_tokens (all accounts);
- ``signups_daily``: period (the signup day), status, accounts;
- ``risk_bins``: risk_from (lower edge of a ``RISK_BIN``-wide score bin), status, accounts,
  for the accounts in a linked group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engines import Engine, EngineError

STATUSES = ("flagged", "not flagged")
RISK_BIN = 0.025
# Each table's key columns; the rest are counts, summed.
KEYS = {"traffic": ["status"], "signups_daily": ["period", "status"], "risk_bins": ["risk_from", "status"]}
COUNTS = {"traffic": ["accounts", "requests", "output_tokens"], "signups_daily": ["accounts"], "risk_bins": ["accounts"]}
# What each account contributes: from its signup row, its detection result and its usage totals.
ACCOUNT_FIELDS = ["account_id", "created_at", "cluster_id", "risk_score", "flagged", "requests", "output_tokens"]


def _status(flagged: pd.Series) -> np.ndarray:
    return np.where(flagged.fillna(False).astype(bool), STATUSES[0], STATUSES[1])


def overview_tables(accounts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three tables for these accounts (``ACCOUNT_FIELDS``; usage may be missing for an account without any)."""
    frame = accounts.assign(status=_status(accounts["flagged"]),
                            requests=accounts["requests"].fillna(0).astype("int64"),
                            output_tokens=accounts["output_tokens"].fillna(0).astype("int64"),
                            period=pd.to_datetime(accounts["created_at"]).dt.floor("D"))
    traffic = frame.groupby("status").agg(accounts=("account_id", "size"), requests=("requests", "sum"),
                                          output_tokens=("output_tokens", "sum"))
    signups = frame.dropna(subset=["period"]).groupby(["period", "status"]).size().rename("accounts")
    linked = frame[frame["cluster_id"].notna()]
    # The last bin holds a score of exactly 1.
    edge = np.minimum(np.floor(linked["risk_score"].fillna(0.0).to_numpy(float) / RISK_BIN), round(1 / RISK_BIN) - 1)
    risk = linked.assign(risk_from=np.round(edge * RISK_BIN, 6)).groupby(["risk_from", "status"]).size()
    return _tidy({"traffic": traffic.reset_index(), "signups_daily": signups.reset_index(),
                  "risk_bins": risk.rename("accounts").reset_index()})


def _tidy(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Rows with any count left, in key order, counts as integers."""
    out = {}
    for name, frame in tables.items():
        frame = frame.reindex(columns=KEYS[name] + COUNTS[name])
        frame[COUNTS[name]] = frame[COUNTS[name]].fillna(0).astype("int64")
        frame = frame[frame[COUNTS[name]].ne(0).any(axis=1)]
        out[name] = frame.sort_values(KEYS[name]).reset_index(drop=True)
    return out


def shifted(tables: dict[str, pd.DataFrame], unflagged: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``tables`` after these accounts (``ACCOUNT_FIELDS``, as they were while flagged) stopped being flagged."""
    before = overview_tables(unflagged.assign(flagged=True))
    after = overview_tables(unflagged.assign(flagged=False))
    out = {}
    for name, frame in tables.items():
        minus = before[name].assign(**{c: -before[name][c] for c in COUNTS[name]})
        moved = pd.concat([frame, minus, after[name]], ignore_index=True)
        out[name] = moved.groupby(KEYS[name], as_index=False)[COUNTS[name]].sum()
    return _tidy(out)


def account_fields(engine: Engine, results: pd.DataFrame, account_ids=None) -> pd.DataFrame:
    """``ACCOUNT_FIELDS`` of these accounts (default: all), from the stored signups and usage and ``results``
    (the ``accounts`` result rows)."""
    ids = None if account_ids is None else list(account_ids)
    signups = engine.accounts(ids, columns=["created_at"])
    if ids is None:
        usage = engine.usage_summary()[["account_id", "requests", "output_tokens"]]
    else:
        use = engine.member_usage(ids, 200 * 366 * 24 * 60)  # one bucket spanning all time
        usage = use.groupby("account_id", as_index=False)[["requests", "output_tokens"]].sum()
    picked = results if ids is None else results[results["account_id"].isin(ids)]
    frame = picked[["account_id", "cluster_id", "risk_score", "flagged"]].merge(signups, on="account_id", how="left")
    return frame.merge(usage, on="account_id", how="left")[ACCOUNT_FIELDS]


def stored(engine: Engine) -> dict[str, pd.DataFrame]:
    """The stored tables; counted from the store when a run saved before they were kept left none."""
    try:
        return {name: engine.results(name) for name in KEYS}
    except EngineError:
        return overview_tables(account_fields(engine, engine.results("accounts")))
