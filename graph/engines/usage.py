"""Usage in plain pandas: which rows a load stores (``fresh``), and the sums that are the
reference every engine's own sums (SQL, Cypher) are checked against.

Each function takes usage rows (the ``usage`` table's columns) and answers one of the
seam's usage questions with its fixed columns (``columns``). Sums come back as plain
float64, as SQL engines return them, so a missing count is NaN rather than pandas' NA.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .columns import (
    MEMBER_USAGE_COLUMNS,
    PROMPT_SUMMARY_COLUMNS,
    USAGE_BY_GROUP_COLUMNS,
    USAGE_COLUMNS,
    USAGE_SUMMARY_COLUMNS,
)
from .policy import bucket_start

SUMS = ["requests", "input_tokens", "output_tokens"]


def fresh(rows: pd.DataFrame, stored: Callable[[list[str]], pd.DataFrame]) -> pd.DataFrame:
    """Usage rows to store (``USAGE_COLUMNS``): all but those whose request_id is stored or repeats an earlier row's.

    ``stored(ids)`` answers which of these request ids the store holds (a ``request_id``
    column). A re-delivered log is recognised by its ids; rows without one are all new.
    """
    if "request_id" not in rows:
        rows = rows.assign(request_id=pd.Series(None, index=rows.index, dtype="str"))
    ids = rows["request_id"]
    if ids.isna().all():
        return rows[USAGE_COLUMNS]
    held = set(stored(ids.dropna().unique().tolist())["request_id"])
    return rows.loc[ids.isna() | ~(ids.duplicated() | ids.isin(held)), USAGE_COLUMNS]


def _plain(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame.astype({c: "float64" for c in columns})


def per_account(use: pd.DataFrame) -> pd.DataFrame:
    """Per account: requests, input_tokens, output_tokens, first_ts, last_ts, active_days, prompts."""
    g = use.assign(day=pd.to_datetime(use["ts"]).dt.normalize()).groupby("account_id")
    out = g.agg(requests=("requests", "sum"), input_tokens=("input_tokens", "sum"),
                output_tokens=("output_tokens", "sum"), first_ts=("ts", "min"), last_ts=("ts", "max"),
                active_days=("day", "nunique"), prompts=("prompt_fingerprint", "nunique"))
    return _plain(out.reset_index()[USAGE_SUMMARY_COLUMNS], SUMS)


def per_prompt(use: pd.DataFrame) -> pd.DataFrame:
    """Per prompt fingerprint: accounts, requests."""
    use = use.dropna(subset=["prompt_fingerprint"])
    out = use.groupby("prompt_fingerprint").agg(accounts=("account_id", "nunique"), requests=("requests", "sum"))
    return _plain(out.reset_index()[PROMPT_SUMMARY_COLUMNS], ["requests"])


def per_bucket(use: pd.DataFrame, bucket_minutes: int) -> pd.DataFrame:
    """Per account, time bucket and prompt fingerprint: requests, input_tokens, output_tokens."""
    use = use.assign(bucket=bucket_start(use["ts"], bucket_minutes))
    out = use.groupby(["account_id", "bucket", "prompt_fingerprint"], dropna=False)[
        SUMS].sum(min_count=1)
    return _plain(out.reset_index()[MEMBER_USAGE_COLUMNS], SUMS)


def per_group(use: pd.DataFrame, groups: pd.DataFrame, bucket_minutes: int, origin) -> pd.DataFrame:
    """Per group (None for accounts in no group) and bucket from ``origin``: requests, output_tokens, last_ts."""
    grouping = pd.Series(groups["group"].astype(str).to_numpy(), index=groups["account_id"].astype(str).to_numpy())
    grouping = grouping[~grouping.index.duplicated()]
    use = use.assign(group=use["account_id"].map(grouping),
                     bucket=bucket_start(use["ts"], bucket_minutes, pd.Timestamp(origin)))
    out = use.groupby(["group", "bucket"], dropna=False).agg(
        requests=("requests", "sum"), output_tokens=("output_tokens", "sum"), last_ts=("ts", "max")).reset_index()
    out = out.sort_values(["group", "bucket"], na_position="last")
    out["group"] = out["group"].astype(object).where(out["group"].notna(), None)
    out[["requests", "output_tokens"]] = out[["requests", "output_tokens"]].astype("int64")
    return out[USAGE_BY_GROUP_COLUMNS].reset_index(drop=True)
