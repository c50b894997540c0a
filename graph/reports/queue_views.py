"""The review queue as analysts see it: per ring its status, owner, age and overdue flag, and the queue's health.

Status comes from what is recorded, never from a field someone sets (``casework.queue``):
decided when the decision in force on the ring id is final, whoever holds it; in review
when open and held; new otherwise.

Age counts from when the ring was first flagged: the first lineage event that flagged
its id, placed at the latest record that run saw (``data_until``, else the run time), as
the weekly review places runs, so a replayed demo keeps its own calendar. An open ring's
age runs to now; a decided ring's age is its time to decision (never below zero: a
replayed week's decisions may be stamped inside the data that flagged the ring). A ring
is overdue when it is open and older than the store policy ``overdue_days``: a team rule
every analyst and the weekly review see alike, changed only through the audited policy
ledger, never by one person's environment.
"""

from __future__ import annotations

import pandas as pd

from ..casework import policy
from ..casework.decisions import current_decisions, decisions
from ..casework.queue import FINAL_VERDICTS, events, owners, rings_and_verdicts
from ..detection.lineage import FLAGGED_TEXT
from ..detection.lineage import history as lineage_history
from ..engines import Engine, EngineError

QUEUE_COLUMNS = ["ring_id", "risk_score", "size", "status", "owner", "age_days", "overdue", "first_flagged",
                 "verdict", "comments", "last_comment"]
DAY = pd.Timedelta(days=1)


def first_flagged(engine: Engine) -> pd.Series:
    """When each ring id was first flagged (naive UTC), from the lineage ledger; see the module docstring."""
    runs = lineage_history(engine, mentioning=FLAGGED_TEXT)
    if runs.empty:
        return pd.Series(dtype="datetime64[ns]")
    flagged = runs[runs["flagged"] & ~runs["event"].isin(["split", "dissolved"])]
    when = pd.to_datetime(flagged["data_until"].fillna(flagged["run_at"]), utc=True).dt.tz_localize(None)
    return when.groupby(flagged["ring_id"].to_numpy()).min()


def _naive(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True, format="ISO8601").dt.tz_localize(None)


def _now(now) -> pd.Timestamp:
    ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


def queue(engine: Engine, now=None) -> pd.DataFrame:
    """Every ring in the queue (flagged now, or held back by a false positive), open ones first, then by risk
    and age (``QUEUE_COLUMNS``); ``age_days`` is days waiting (open) or days to the decision (decided)."""
    rings = rings_and_verdicts(engine)
    rings = rings[rings["flagged"].astype(bool) | rings["verdict"].isin(FINAL_VERDICTS)]
    if rings.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    now = _now(now)
    held = owners(engine)
    log = events(engine)
    notes = log[log["action"] == "comment"]
    latest = current_decisions(decisions(engine))
    first = first_flagged(engine)
    # A ring no lineage names (a store from before lineage was kept) counts from the last run.
    fallback = _last_run(engine, now)
    out = rings[["ring_id", "risk_score", "size", "verdict"]].reset_index(drop=True)
    out["first_flagged"] = out["ring_id"].map(first).fillna(fallback).astype("datetime64[ns]")
    decided = out["verdict"].isin(FINAL_VERDICTS)
    decided_at = _naive(out["ring_id"].map(latest["at"]) if len(latest) else pd.Series(None, index=out.index))
    end = decided_at.where(decided, now)
    out["age_days"] = ((end - out["first_flagged"]).clip(lower=pd.Timedelta(0)) / DAY).round(1)
    out["owner"] = out["ring_id"].map(held).astype(object).fillna("")
    out["status"] = ["decided" if d else "in_review" if o else "new" for d, o in zip(decided, out["owner"])]
    limit = policy.current(engine)["overdue_days"]
    out["overdue"] = ~decided & (out["age_days"] > limit) if limit is not None else False
    out["comments"] = out["ring_id"].map(notes.groupby("ring_id").size()).fillna(0).astype("int64")
    out["last_comment"] = out["ring_id"].map(notes.groupby("ring_id")["note"].last()).astype(object).fillna("")
    out["open"] = ~decided
    out = out.sort_values(["open", "risk_score", "age_days", "ring_id"], ascending=[False, False, False, True])
    return out[QUEUE_COLUMNS].reset_index(drop=True)


def _last_run(engine: Engine, now: pd.Timestamp) -> pd.Timestamp:
    try:
        runs = engine.results("runs")
    except EngineError:
        return now
    return pd.Timestamp(pd.to_datetime(runs["finished_at"]).max()) if len(runs) else now


def health(engine: Engine, since=None, end=None, now=None, table: pd.DataFrame | None = None) -> dict:
    """Queue health: rings open, new, in review and overdue ``now``; rings decided from ``since`` up to ``end``
    (end exclusive, by the time of their decision) and the median days from first flagged to that decision
    (None without any). ``table``: the queue ``now``, when the caller has it already."""
    table = queue(engine, now) if table is None else table
    open_ = table[table["status"] != "decided"]
    made = decisions(engine)
    made = made[(made["target_kind"] == "ring") & made["verdict"].isin(FINAL_VERDICTS)]
    at = _naive(made["at"]).to_numpy()
    inside = pd.Series(True, index=made.index)
    if since is not None:
        inside &= at >= _now(since)
    if end is not None:
        inside &= at < _now(end)
    made = made[inside.to_numpy()].drop_duplicates("target")
    first = first_flagged(engine)
    waited = (_naive(made["at"]).to_numpy() - made["target"].map(first).to_numpy()) / DAY
    waited = pd.Series(waited, dtype="float64").dropna().clip(lower=0)
    return {
        "open": len(open_), "new": int((open_["status"] == "new").sum()),
        "in review": int((open_["status"] == "in_review").sum()), "overdue": int(open_["overdue"].sum()),
        "decided": len(made), "median days to decision": round(float(waited.median()), 1) if len(waited) else None,
        "overdue after days": policy.current(engine)["overdue_days"],
    }
