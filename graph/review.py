"""The weekly risk review: what changed since a date, as data and as a self-contained HTML page.

The data window runs from ``since`` (default: seven days before the latest usage record)
to the latest usage record. Ring changes come from the last run's lineage (when that run
finished inside the window); traffic from
usage inside the window; decisions, bans and unbans from the ledgers, by when they were
recorded. Every value in the page is HTML-escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from . import batches, decisions
from .engine import Engine, EngineError

TOP = 10


@dataclass
class Review:
    """The review's numbers and tables."""

    since: pd.Timestamp
    until: pd.Timestamp | None
    counts: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)

    @property
    def activity(self) -> bool:
        """True when anything happened in the window."""
        return any(self.counts.values())


def _after(frame: pd.DataFrame, column: str, since: pd.Timestamp) -> pd.DataFrame:
    if frame.empty or column not in frame:
        return frame.iloc[0:0]
    ts = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    return frame[ts >= since]


def build_review(engine: Engine, since: str | pd.Timestamp | None = None) -> Review:
    """Collect the review for the window starting at ``since``."""
    usage = engine.usage_summary()
    until = pd.to_datetime(usage["last_ts"]).max() if len(usage) else None
    if since is None:
        since = (until if until is not None else pd.Timestamp.now()) - pd.Timedelta(days=7)
    since = pd.Timestamp(since).tz_localize(None) if pd.Timestamp(since).tzinfo is None else \
        pd.Timestamp(since).tz_convert("UTC").tz_localize(None)
    try:
        rings, accounts, lineage = engine.results("rings"), engine.results("accounts"), engine.results("lineage")
    except EngineError:
        rings = accounts = lineage = pd.DataFrame()
    flagged = rings[rings["flagged"].astype(bool)] if len(rings) else rings
    ran = engine.results("runs")["finished_at"].max() if len(rings) else None
    if ran is None or pd.Timestamp(ran) < since:
        lineage = lineage.iloc[0:0]  # the last run's changes belong to the window it ran in
    changes = lineage[lineage["event"].isin(["new", "grown", "merged"])] if len(lineage) else lineage
    changes = changes[changes["ring_id"].isin(flagged["ring_id"])] if len(changes) else changes
    traffic = _ring_traffic(engine, accounts, flagged, since)
    made = _after(decisions.decisions(engine), "at", since)
    history = _after(batches.history(engine), "at", since)
    outcomes = decisions.current_decisions(decisions.decisions(engine))
    review = Review(since=since, until=until)
    review.tables = {
        "ring changes": changes[["event", "ring_id", "related_ids", "size_before", "size_after"]] if len(changes)
        else pd.DataFrame(),
        "top rings by requests": traffic.sort_values(["requests", "ring_id"], ascending=[False, True]).head(TOP),
        "top rings by output tokens": traffic.sort_values(["output_tokens", "ring_id"], ascending=[False, True]).head(TOP),
        "pending decisions": decisions.pending_rings(engine) if len(rings) else pd.DataFrame(),
        "decisions made": made[["target", "verdict", "analyst", "at", "note"]] if len(made) else pd.DataFrame(),
        "bans issued and reversed": history.groupby(["event", "batch_id"]).size().rename("accounts").reset_index()
        if len(history) else pd.DataFrame(),
        "outcomes of past flags": outcomes["verdict"].value_counts().rename_axis("verdict").rename("targets").reset_index()
        if len(outcomes) else pd.DataFrame(),
    }
    review.counts = {
        "new or grown rings": len(changes),
        "rings active in the window": int((traffic["requests"] > 0).sum()) if len(traffic) else 0,
        "decisions made": len(made),
        # Accounts, not ban events: an account in two batches is one banned account.
        "accounts banned": int(history.loc[history["event"] == "ban", "account_id"].nunique()) if len(history) else 0,
        "bans reversed": int(history.loc[history["event"] == "unban", "account_id"].nunique()) if len(history) else 0,
    }
    return review


def _ring_traffic(engine: Engine, accounts: pd.DataFrame, flagged: pd.DataFrame, since) -> pd.DataFrame:
    """Requests and output tokens per flagged ring inside the window."""
    cols = ["ring_id", "size", "risk_score", "requests", "output_tokens"]
    if flagged.empty:
        return pd.DataFrame(columns=cols)
    members = accounts[accounts["ring_id"].isin(flagged["ring_id"])][["account_id", "ring_id"]]
    use = engine.member_usage(members["account_id"].tolist(), 1440)
    use = use[pd.to_datetime(use["bucket"]) >= since.floor("D")].merge(members, on="account_id")
    per = use.groupby("ring_id")[["requests", "output_tokens"]].sum()
    out = flagged[["ring_id", "size", "risk_score"]].set_index("ring_id").join(per).fillna(0).reset_index()
    out[["requests", "output_tokens"]] = out[["requests", "output_tokens"]].astype("int64")
    return out[cols]


def _table(frame: pd.DataFrame) -> str:
    if frame is None or frame.empty:
        return "<p>none</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(review: Review) -> str:
    """The review as one self-contained HTML page (no external resources)."""
    until = "no usage" if review.until is None else review.until.strftime("%Y-%m-%d %H:%M")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>ringwatch weekly review</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>",
        "<h1>ringwatch weekly review</h1>",
        f"<p id='window'>Data window: {html.escape(review.since.strftime('%Y-%m-%d %H:%M'))} to {html.escape(until)} (UTC)</p>",
        "<ul id='counts'>" + "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in review.counts.items()) + "</ul>",
    ]
    if not review.activity:
        parts.append("<p id='no-activity'>No activity in this window: no new or grown rings, no ring traffic, "
                     "no decisions, no bans.</p>")
    else:
        for title, frame in review.tables.items():
            rows = 0 if frame is None else len(frame)
            parts.append(f"<h2>{html.escape(title)} ({rows} rows)</h2>{_table(frame)}")
    parts.append("</body></html>")
    return "\n".join(parts)
