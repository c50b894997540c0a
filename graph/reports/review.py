"""The weekly risk review: what happened inside a window, as data (``build_review``) and as a page (``review_page``).

The window holds whole days, from ``since`` (default: the first midnight at least seven
days before the latest usage record) up to ``until`` (default: the end of the day of the
latest usage record), end exclusive. Everything the review *counts* happened inside it:
ring changes come from the ``lineage`` ledger, the events of every run whose data ended
inside the window (``lineage.record_history``); traffic from usage inside the window;
decisions, bans and unbans from the ledgers, by when they were recorded. What was recorded
after the window (a decision taken today on last week's data) is not counted, only noted,
and is counted by the review of the window that holds it. A flagged ring *went quiet* when
its members sent requests in the seven days before the window and none inside it.

Two tables are not events but state, *as of* the moment the review is made: the rings
still awaiting a decision and the outcomes of past flags (the last detection run and
every decision recorded so far), as the page says.

Usage is summed in the store (``Engine.usage_by_group``) per ring and per window, so the
review's memory does not grow with the number of accounts. The week-over-week table
covers every week on record up to the window's end: ring changes by the week of the data
each run covered, decisions and bans by the week they were recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..casework import audit, bans, decisions
from ..casework.vocabulary import verdict_label
from ..detection.lineage import history as lineage_history
from ..engines import Engine, EngineError
from . import queue_views, review_charts
from .case_views import ring_counts

TOP = 10
WEEK = pd.Timedelta(days=7)
DAY = pd.Timedelta(days=1)
# Any midnight: day buckets counted from it start at midnight (UTC).
MIDNIGHT = pd.Timestamp("2000-01-03")
CHANGE_EVENTS = ("new", "grown", "merged", "split", "dissolved")
NO_ACTIVITY = ("No activity in this window: no new or grown rings, no ring traffic, no rings gone quiet, "
               "no decisions, no bans.")
# Tables that show state as of the review's making rather than events inside the window.
STATE_TABLES = ("pending decisions", "outcomes of past flags")
# One line per table and chart, saying what it shows (the page and the dashboard print them).
NOTES = {
    "ring changes": "Flagged rings that appeared, grew, merged, split or dissolved in the detection runs whose "
                    "data ended inside the window.",
    "rings gone quiet": "Flagged rings whose members sent requests in the seven days before the window and none "
                        "inside it.",
    "top rings by requests": "The flagged rings that sent the most requests inside the window.",
    "top rings by output tokens": "The flagged rings that received the most output tokens inside the window.",
    "pending decisions": "Flagged rings with no decision yet, or marked needs review, riskiest first (state as of "
                         "the review's making).",
    "decisions made": "Decisions recorded inside the window, in the order made.",
    "bans issued and reversed": "Ban batches that took effect and bans lifted inside the window, with the accounts "
                                "each touched.",
    "outcomes of past flags": "The current verdict on every ring or account ever decided (state as of the "
                              "review's making).",
    "week over week": "Per week up to the window's end: flagged ring changes by the week of the data, decisions "
                      "and newly banned accounts by the week they were recorded.",
    "review queue": "Open, new, in review and overdue: the review queue as of the review's making; decided: rings "
                    "decided inside the window, with the median days from first flagged to the decision.",
    "rings by size and risk": "Each dot is a flagged ring: its accounts (across, log scale) against its risk score "
                              "(up); the dot's area grows with the ring's requests inside the window.",
    "requests per day": "Requests per day inside the window: flagged accounts against all other accounts.",
    "output tokens per day": "Output tokens per day inside the window: flagged accounts against all other "
                             "accounts.",
}


@dataclass
class Review:
    """The review's numbers and tables.

    ``since`` and ``end`` bound the window (end exclusive); ``until`` is the latest usage
    record inside it (None without usage); ``as_of`` is when the review was made;
    ``state`` holds the ring counts as of then, and ``after`` what was recorded after
    the window and so is not counted.
    """

    since: pd.Timestamp
    until: pd.Timestamp | None
    end: pd.Timestamp | None = None
    as_of: pd.Timestamp | None = None
    counts: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    chart_data: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    notes: dict = field(default_factory=lambda: dict(NOTES))
    queue: dict = field(default_factory=dict)

    @property
    def activity(self) -> bool:
        """True when anything happened in the window."""
        return any(self.counts.values())


def _naive_ts(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC").tz_localize(None)


def _inside(frame: pd.DataFrame, column: str, since: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The rows whose ``column`` time falls in [since, end)."""
    if frame.empty or column not in frame:
        return frame.iloc[0:0]
    ts = _naive(frame[column])
    return frame[(ts >= since) & (ts < end)]


def window(latest_usage, since=None, until=None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window's start and exclusive end, in whole days from the start (naive UTC).

    ``until`` is the last moment inside the window, so a date means its whole day; the
    default is the day of the latest usage record (today without usage).
    """
    latest = _naive_ts(latest_usage) if latest_usage is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    start = _naive_ts(since) if since is not None else (latest - WEEK).ceil("D")
    last = _naive_ts(until) if until is not None else latest
    days = max(1, int(-(-(last - start + pd.Timedelta(microseconds=1)) // DAY)))
    return start, start + days * DAY


def build_review(engine: Engine, since: str | pd.Timestamp | None = None,
                 until: str | pd.Timestamp | None = None) -> Review:
    """Collect the review for the window from ``since`` through ``until`` (see ``window``)."""
    try:
        rings, accounts = engine.results("rings"), engine.results("accounts")
    except EngineError:
        rings = accounts = pd.DataFrame()
    flagged = rings[rings["flagged"].astype(bool)] if len(rings) else rings
    days = _usage_per_day(engine, accounts)
    since, end = window(days["last_ts"].max() if len(days) else None, since, until)
    days = days[(pd.to_datetime(days["bucket"]) >= since.floor("D")) & (pd.to_datetime(days["bucket"]) < end)]
    last = pd.to_datetime(days["last_ts"])
    last = last[(last >= since) & (last < end)]
    review = Review(since=since, until=pd.Timestamp(last.max()) if len(last) else None, end=end,
                    as_of=_naive_ts(audit.now_text()))
    runs = lineage_history(engine)
    changes = _changes_in_window(runs, since, end)
    traffic, quiet = _ring_activity(engine, accounts, flagged, since, end)
    every_decision, every_ban = decisions.decisions(engine), bans.history(engine)
    made, history = _inside(every_decision, "at", since, end), _inside(every_ban, "at", since, end)
    later = _inside(every_decision, "at", end, pd.Timestamp.max), _inside(every_ban, "at", end, pd.Timestamp.max)
    review.after = {"decisions": len(later[0]), "ban and unban events": len(later[1])}
    review.state = ring_counts(engine) if len(rings) else {}
    outcomes = decisions.current_decisions(every_decision)
    review.tables = {
        "ring changes": changes[["week", "event", "ring_id", "related_ids", "size_before", "size_after"]]
        if len(changes) else pd.DataFrame(),
        "rings gone quiet": quiet,
        "top rings by requests": traffic.sort_values(["requests", "ring_id"], ascending=[False, True]).head(TOP),
        "top rings by output tokens": traffic.sort_values(["output_tokens", "ring_id"], ascending=[False, True]).head(TOP),
        "pending decisions": _pending(engine) if len(rings) else pd.DataFrame(),
        "decisions made": made[["target", "verdict", "analyst", "at", "note"]] if len(made) else pd.DataFrame(),
        "bans issued and reversed": history.groupby(["event", "batch_id"]).size().rename("accounts").reset_index()
        if len(history) else pd.DataFrame(),
        "outcomes of past flags": outcomes["verdict"].value_counts().rename_axis("verdict").rename("targets").reset_index()
        if len(outcomes) else pd.DataFrame(),
        "week over week": weekly_counts(runs, every_decision, every_ban, end),
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
    review.chart_data = {"rings": traffic, "daily": _daily_traffic(days)}
    review.queue = queue_views.health(engine, since, end, now=review.as_of)
    return review


def _pending(engine: Engine) -> pd.DataFrame:
    """Rings awaiting a decision, with their decision so far in words ("none yet" or "needs review")."""
    pending = decisions.pending_rings(engine)
    words = pending["verdict"].map(lambda v: verdict_label(v) if v else "none yet")
    return pending.drop(columns="verdict").assign(decision=words)


def _changes_in_window(runs: pd.DataFrame, since: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Flagged rings' lineage events of the runs whose data ended inside the window."""
    if runs.empty:
        return runs.assign(week=pd.Series(dtype=object))
    when = _naive(runs["data_until"].fillna(runs["run_at"]))
    # A run whose data ended at ``since`` covered the week before the window.
    inside = (when > since) & (when <= end)
    out = runs[inside & runs["flagged"] & runs["event"].isin(CHANGE_EVENTS)]
    return out.assign(week=_week(when[out.index])).reset_index(drop=True)


def _naive(times: pd.Series) -> pd.Series:
    """Timestamps as naive UTC."""
    ts = pd.to_datetime(times, utc=True, format="ISO8601")
    return ts.dt.tz_localize(None)


def _week(times: pd.Series) -> pd.Series:
    """The Monday starting each timestamp's week, as a date string."""
    return times.dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")


def weekly_counts(runs: pd.DataFrame, made: pd.DataFrame, bans: pd.DataFrame,
                  end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Per week up to ``end``: flagged rings new, grown, split, dissolved (from the week's runs), decisions and
    accounts newly banned. Runs, decisions and bans after ``end`` belong to a later review and are left out."""
    columns = ["week", *review_charts.WEEK_COLUMNS]
    end = pd.Timestamp.max if end is None else end
    parts = []
    if len(runs):
        flagged = runs[runs["flagged"]]
        when = _naive(flagged["data_until"].fillna(flagged["run_at"]))
        flagged, when = flagged[when <= end], when[when <= end]
        events = flagged.assign(week=_week(when).to_numpy()).drop_duplicates(["week", "event", "ring_id"])
        if len(events):
            parts.append(events.pivot_table(index="week", columns="event", values="ring_id", aggfunc="count"))
    made = _inside(made, "at", pd.Timestamp.min, end)
    if len(made):
        parts.append(made.assign(week=_week(_naive(made["at"]))).groupby("week").size().rename("decisions").to_frame())
    bans = _inside(bans, "at", pd.Timestamp.min, end)
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


def _daily_traffic(days: pd.DataFrame) -> pd.DataFrame:
    """Requests and output tokens per day (``days``: the window's day buckets), flagged accounts against all others."""
    cols = ["day", "group", "requests", "output_tokens"]
    if days.empty:
        return pd.DataFrame(columns=cols)
    out = days.assign(group=days["group"].fillna("other"), day=pd.to_datetime(days["bucket"]).dt.strftime("%Y-%m-%d"))
    return out.groupby(["day", "group"])[["requests", "output_tokens"]].sum().reset_index()[cols]


def _ring_activity(engine: Engine, accounts: pd.DataFrame, flagged: pd.DataFrame, since: pd.Timestamp,
                   end: pd.Timestamp):
    """Per flagged ring: requests and output tokens inside the window; and the rings that went quiet.

    Usage is summed in buckets as wide as the window, counted from ``since`` (the window is
    the bucket starting at ``since``), and in week buckets counted from ``since`` (the week
    before it is the bucket starting seven days earlier), so both have exact edges.
    """
    cols = ["ring_id", "size", "risk_score", "requests", "output_tokens"]
    quiet_cols = ["ring_id", "size", "risk_score", "requests_week_before", "last_request"]
    if flagged.empty:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=quiet_cols)
    members = accounts.loc[accounts["ring_id"].isin(flagged["ring_id"]), ["account_id", "ring_id"]]
    groups = members.rename(columns={"ring_id": "group"})
    span = engine.usage_by_group(groups, int((end - since) / pd.Timedelta(minutes=1)), since)
    span = span[span["group"].notna() & (pd.to_datetime(span["bucket"]) == since)]
    inside = span.groupby("group")[["requests", "output_tokens"]].sum()
    weeks = engine.usage_by_group(groups, 7 * 1440, since)
    weeks = weeks[weeks["group"].notna() & (pd.to_datetime(weeks["bucket"]) < since)]
    before = weeks[pd.to_datetime(weeks["bucket"]) == since - WEEK].groupby("group")["requests"].sum()
    last = weeks.groupby("group")["last_ts"].max()
    per = flagged[["ring_id", "size", "risk_score"]].set_index("ring_id")
    out = per.join(inside).fillna({"requests": 0, "output_tokens": 0}).reset_index()
    out[["requests", "output_tokens"]] = out[["requests", "output_tokens"]].astype("int64")
    went = per.assign(requests_week_before=before.reindex(per.index).fillna(0).astype("int64"),
                      requests=out.set_index("ring_id")["requests"], last_request=last.reindex(per.index))
    went = went[(went["requests_week_before"] > 0) & (went["requests"] == 0)].reset_index()
    went = went.sort_values(["last_request", "ring_id"], ascending=[False, True]).reset_index(drop=True)
    return out[cols], went[quiet_cols]


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
