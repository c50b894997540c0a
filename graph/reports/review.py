"""The weekly risk review: what changed since a date, as data and as a self-contained HTML page.

The data window runs from ``since`` (default: the first midnight at least seven days
before the latest usage record, so the window holds whole days) to the latest usage
record. Ring changes come from the ``lineage`` ledger: the events of every run whose data
reached into the window (``lineage.record_history``); traffic from usage inside the
window; decisions, bans and unbans from the ledgers, by when they were recorded. A
flagged ring *went quiet* when its members sent requests in the seven days before the
window and none inside it: it is still a ring (lineage does not call it dissolved), it
just stopped, which an analyst wants to see next to the rings that grew. Usage is summed
in the store (``Engine.usage_by_group``) per ring and per day, so the review's memory does
not grow with the number of accounts. The week-over-week table covers every week on
record: ring changes by the week of the data each run covered, decisions and bans by the
week they were recorded. Every value in the page is HTML-escaped; charts carry only ids,
dates and numbers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from ..casework import bans, decisions
from ..detection.lineage import history as lineage_history
from ..engines import Engine, EngineError
from . import queue_views, review_charts

TOP = 10
WEEK = pd.Timedelta(days=7)
# Any midnight: day buckets counted from it start at midnight (UTC).
MIDNIGHT = pd.Timestamp("2000-01-03")
CHANGE_EVENTS = ("new", "grown", "merged", "split", "dissolved")
NO_ACTIVITY = ("No activity in this window: no new or grown rings, no ring traffic, no rings gone quiet, "
               "no decisions, no bans.")


@dataclass
class Review:
    """The review's numbers and tables."""

    since: pd.Timestamp
    until: pd.Timestamp | None
    counts: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    chart_data: dict = field(default_factory=dict)
    queue: dict = field(default_factory=dict)

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
    try:
        rings, accounts = engine.results("rings"), engine.results("accounts")
    except EngineError:
        rings = accounts = pd.DataFrame()
    flagged = rings[rings["flagged"].astype(bool)] if len(rings) else rings
    days = _usage_per_day(engine, accounts)
    until = pd.Timestamp(days["last_ts"].max()) if len(days) else None
    if since is None:
        since = ((until if until is not None else pd.Timestamp.now()) - WEEK).ceil("D")
    since = pd.Timestamp(since).tz_localize(None) if pd.Timestamp(since).tzinfo is None else \
        pd.Timestamp(since).tz_convert("UTC").tz_localize(None)
    runs = lineage_history(engine)
    changes = _changes_in_window(runs, since, until)
    traffic, quiet = _ring_activity(engine, accounts, flagged, since)
    made = _after(decisions.decisions(engine), "at", since)
    history = _after(bans.history(engine), "at", since)
    outcomes = decisions.current_decisions(decisions.decisions(engine))
    review = Review(since=since, until=until)
    review.tables = {
        "ring changes": changes[["week", "event", "ring_id", "related_ids", "size_before", "size_after"]]
        if len(changes) else pd.DataFrame(),
        "rings gone quiet": quiet,
        "top rings by requests": traffic.sort_values(["requests", "ring_id"], ascending=[False, True]).head(TOP),
        "top rings by output tokens": traffic.sort_values(["output_tokens", "ring_id"], ascending=[False, True]).head(TOP),
        "pending decisions": decisions.pending_rings(engine) if len(rings) else pd.DataFrame(),
        "decisions made": made[["target", "verdict", "analyst", "at", "note"]] if len(made) else pd.DataFrame(),
        "bans issued and reversed": history.groupby(["event", "batch_id"]).size().rename("accounts").reset_index()
        if len(history) else pd.DataFrame(),
        "outcomes of past flags": outcomes["verdict"].value_counts().rename_axis("verdict").rename("targets").reset_index()
        if len(outcomes) else pd.DataFrame(),
        "week over week": weekly_counts(runs, decisions.decisions(engine), bans.history(engine)),
    }
    review.counts = {
        "new or grown rings": int(changes.loc[changes["event"].isin(["new", "grown", "merged"]), "ring_id"].nunique())
        if len(changes) else 0,
        "rings active in the window": int((traffic["requests"] > 0).sum()) if len(traffic) else 0,
        "rings gone quiet": len(quiet),
        "decisions made": len(made),
        # Accounts newly banned, not ban events: a batch that included accounts banned already bans nobody new.
        "accounts newly banned": int(history.loc[(history["event"] == "ban") & history["changed"], "account_id"]
                                     .nunique()) if len(history) else 0,
        "bans reversed": int(history.loc[history["event"] == "unban", "account_id"].nunique()) if len(history) else 0,
    }
    review.chart_data = {"rings": traffic, "daily": _daily_traffic(days, since)}
    review.queue = queue_views.health(engine, since, until)
    return review


def _changes_in_window(runs: pd.DataFrame, since: pd.Timestamp, until) -> pd.DataFrame:
    """Flagged rings' lineage events of the runs whose data ended inside the window."""
    if runs.empty:
        return runs.assign(week=pd.Series(dtype=object))
    when = _naive(runs["data_until"].fillna(runs["run_at"]))
    # A run whose data ended at ``since`` covered the week before the window.
    inside = (when > since) & ((when <= until) if until is not None else True)
    out = runs[inside & runs["flagged"] & runs["event"].isin(CHANGE_EVENTS)]
    return out.assign(week=_week(when[out.index])).reset_index(drop=True)


def _naive(times: pd.Series) -> pd.Series:
    """Timestamps as naive UTC."""
    ts = pd.to_datetime(times, utc=True, format="ISO8601")
    return ts.dt.tz_localize(None)


def _week(times: pd.Series) -> pd.Series:
    """The Monday starting each timestamp's week, as a date string."""
    return times.dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")


def weekly_counts(runs: pd.DataFrame, made: pd.DataFrame, bans: pd.DataFrame) -> pd.DataFrame:
    """Per week: flagged rings new, grown, split, dissolved (from the week's runs), decisions and accounts newly banned."""
    columns = ["week", *review_charts.WEEK_COLUMNS]
    parts = []
    if len(runs):
        flagged = runs[runs["flagged"]]
        week = _week(_naive(flagged["data_until"].fillna(flagged["run_at"])))
        events = flagged.assign(week=week.to_numpy()).drop_duplicates(["week", "event", "ring_id"])
        parts.append(events.pivot_table(index="week", columns="event", values="ring_id", aggfunc="count"))
    if len(made):
        parts.append(made.assign(week=_week(_naive(made["at"]))).groupby("week").size().rename("decisions").to_frame())
    if len(bans):
        banned = bans[(bans["event"] == "ban") & bans["changed"]]
        if len(banned):
            per = banned.assign(week=_week(_naive(banned["at"]))).groupby("week")["account_id"].nunique()
            parts.append(per.rename("accounts newly banned").to_frame())
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, axis=1).reindex(columns=columns[1:]).fillna(0).astype("int64")
    table.columns.name = None
    return table.sort_index().rename_axis("week").reset_index()


def _usage_per_day(engine: Engine, accounts: pd.DataFrame) -> pd.DataFrame:
    """Usage per day of all history, flagged accounts (group "flagged") against all others (group None)."""
    flagged = accounts.loc[accounts["flagged"].astype(bool), ["account_id"]] if len(accounts) else \
        pd.DataFrame({"account_id": pd.Series(dtype=str)})
    return engine.usage_by_group(flagged.assign(group="flagged"), 1440, MIDNIGHT)


def _daily_traffic(days: pd.DataFrame, since: pd.Timestamp) -> pd.DataFrame:
    """Requests and output tokens per day in the window, flagged accounts against all others."""
    cols = ["day", "group", "requests", "output_tokens"]
    days = days[pd.to_datetime(days["bucket"]) >= since.floor("D")]
    if days.empty:
        return pd.DataFrame(columns=cols)
    out = days.assign(group=days["group"].fillna("other"), day=pd.to_datetime(days["bucket"]).dt.strftime("%Y-%m-%d"))
    return out.groupby(["day", "group"])[["requests", "output_tokens"]].sum().reset_index()[cols]


def review_figures(review: Review) -> dict:
    """The review's charts by title; the week-over-week chart only when the history spans several weeks."""
    figures = {}
    rings, daily = review.chart_data.get("rings"), review.chart_data.get("daily")
    if rings is not None and len(rings):
        figures["rings by size and risk"] = review_charts.rings_by_size_and_risk(rings)
    if daily is not None and len(daily):
        figures["requests per day"] = review_charts.traffic_by_day(daily, "requests")
        figures["output tokens per day"] = review_charts.traffic_by_day(daily, "output_tokens")
    weeks = review.tables.get("week over week")
    if weeks is not None and len(weeks) >= 2:
        figures["week over week"] = review_charts.week_over_week(weeks)
    return figures


def _ring_activity(engine: Engine, accounts: pd.DataFrame, flagged: pd.DataFrame, since: pd.Timestamp):
    """Per flagged ring: requests and output tokens inside the window; and the rings that went quiet.

    Usage is summed in week buckets counted from ``since``, so the window (buckets from
    ``since`` on) and the week before it (the bucket starting seven days earlier) have
    exact edges.
    """
    cols = ["ring_id", "size", "risk_score", "requests", "output_tokens"]
    quiet_cols = ["ring_id", "size", "risk_score", "requests_week_before", "last_request"]
    if flagged.empty:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=quiet_cols)
    members = accounts.loc[accounts["ring_id"].isin(flagged["ring_id"]), ["account_id", "ring_id"]]
    use = engine.usage_by_group(members.rename(columns={"ring_id": "group"}), 7 * 1440, since)
    use = use[use["group"].notna()]
    bucket = pd.to_datetime(use["bucket"])
    inside = use[bucket >= since].groupby("group")[["requests", "output_tokens"]].sum()
    before = use[bucket == since - WEEK].groupby("group")["requests"].sum()
    last = use.groupby("group")["last_ts"].max()
    per = flagged[["ring_id", "size", "risk_score"]].set_index("ring_id")
    out = per.join(inside).fillna({"requests": 0, "output_tokens": 0}).reset_index()
    out[["requests", "output_tokens"]] = out[["requests", "output_tokens"]].astype("int64")
    went = per.assign(requests_week_before=before.reindex(per.index).fillna(0).astype("int64"),
                      requests=out.set_index("ring_id")["requests"], last_request=last.reindex(per.index))
    went = went[(went["requests_week_before"] > 0) & (went["requests"] == 0)].reset_index()
    went = went.sort_values(["last_request", "ring_id"], ascending=[False, True]).reset_index(drop=True)
    return out[cols], went[quiet_cols]


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
    parts.append(queue_health_html(review.queue))
    if not review.activity:
        parts.append(f"<p id='no-activity'>{html.escape(NO_ACTIVITY)}</p>")
    else:
        figures = review_figures(review)
        if figures:
            parts.append("<h2>Charts</h2><div id='charts'>" + review_charts.figures_html(figures) + "</div>")
        for title, frame in review.tables.items():
            rows = 0 if frame is None else len(frame)
            parts.append(f"<h2>{html.escape(title)} ({rows} rows)</h2>{_table(frame)}")
    parts.append("</body></html>")
    return "\n".join(parts)


def queue_health_lines(health: dict) -> list[str]:
    """The review queue's health in plain sentences (``queue_views.health``), for the page and the dashboard."""
    if not health:
        return []
    limit = health["overdue after days"]
    median = health["median days to decision"]
    return [
        f"open now: {health['open']:,} ({health['new']:,} new, in review: {health['in review']:,})",
        f"overdue now: {health['overdue']:,}" + (f" (open over {limit} days since first flagged)" if limit is not None
                                                  else " (overdue-days policy off)"),
        f"rings decided in the window: {health['decided']:,}; median days to decision: "
        + ("none decided" if median is None else f"{median:.1f}"),
    ]


def queue_health_html(health: dict) -> str:
    """The queue-health section of the HTML page."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in queue_health_lines(health))
    return f"<h2>Review queue</h2><ul id='queue-health'>{items}</ul>"
