"""Pure Plotly chart builders: DataFrame in, figure out. No Streamlit, no store access.

Text from the data goes into hover labels HTML-escaped: Plotly reads a few tags (<br>,
<b>, <a>) in hover text, and an account field must only ever show as text.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from ringwatch.graph.reports.overview_tables import RISK_BIN
from ringwatch.graph.reports.review_charts import log_axis

MAX_HEATMAP_ACCOUNTS = 150
WEBGL_POINTS = 5000
POINT_SCORE = 3
KIND_COLOURS = {
    "payment": "#d62728", "device": "#ff7f0e", "phone": "#9467bd", "email": "#8c564b",
    "ip": "#1f77b4", "ip_net": "#17becf", "user_agent": "#bcbd22", "org": "#2ca02c",
    "email_domain": "#7f7f7f", "prompt": "#e377c2",
}
ACCOUNT_COLOUR = "#393b79"
STATUS_COLOURS = {"flagged": "#d62728", "not flagged": "#1f77b4"}


def _text(value) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value), quote=False)


def _layout(fig: go.Figure, title: str, x: str, y: str, legend: str | None = None) -> go.Figure:
    # Titles may name an account: escaped so Plotly never reads markup in them.
    fig.update_layout(title=html.escape(title, quote=False), xaxis_title=x, yaxis_title=y, legend_title_text=legend,
                      margin=dict(l=10, r=10, t=50, b=10), template="plotly_white")
    return fig


def risk_histogram(bins: pd.DataFrame) -> go.Figure:
    """Histogram of account risk scores, flagged vs not flagged, from counts per bin (risk_from, status, accounts)."""
    fig = go.Figure()
    for status, part in bins.groupby("status"):
        fig.add_trace(go.Bar(x=part["risk_from"] + RISK_BIN / 2, y=part["accounts"], width=RISK_BIN, name=status,
                             marker_color=STATUS_COLOURS.get(status)))
    fig.update_layout(barmode="stack", bargap=0)
    return _layout(fig, "Risk scores of accounts in linked groups", "account risk score", "accounts", "account")


def rings_scatter(rings: pd.DataFrame) -> go.Figure:
    """Linked groups plotted by size against risk score; flagged rings in red. Takes ``scatter_points`` of the groups
    (or the groups themselves, and makes them so)."""
    points = rings if "others" in rings.columns else scatter_points(rings)
    fig = go.Figure()
    # Thousands of SVG markers take the browser seconds to draw; WebGL draws them at once.
    scatter = go.Scattergl if len(points) > WEBGL_POINTS else go.Scatter
    for flagged, part in points.groupby(points["flagged"].astype(bool)):
        name = "ring (flagged)" if flagged else "benign linked group"
        more = ["" if n == 0 else f" and {n:,} other group{'s' * (n > 1)} here" for n in part["others"]]
        fig.add_trace(scatter(
            x=part["size"].to_numpy(), y=part["risk_score"].to_numpy(), mode="markers", name=name,
            marker=dict(color="#d62728" if flagged else "#1f77b4", size=9, opacity=0.75),
            hovertext=[f"{_text(r)}{m}<br>{s} accounts, risk {v:.2f}" for r, m, s, v in
                       zip(part["ring_id"], more, part["size"], part["risk_score"])],
            customdata=part["ring_id"].to_numpy(dtype=object), hoverinfo="text"))
    fig.update_xaxes(**log_axis(points["size"]))
    return _layout(fig, "Linked groups: size against risk score", "accounts in the group (log scale)",
                   "risk score", "group")


def scatter_points(rings: pd.DataFrame) -> pd.DataFrame:
    """The groups ``rings_scatter`` draws (ring_id, size, risk_score, flagged, and the ``others`` each stands for).

    Every flagged ring is a point of its own. Benign groups of one size and score (to ``POINT_SCORE`` decimals) are
    one point, the lowest id's, which a click opens: a store of ten million accounts has a hundred thousand benign
    groups on a few thousand distinct points, and every point drawn travels to the browser.
    """
    groups = rings[["ring_id", "size", "risk_score", "flagged"]].assign(flagged=rings["flagged"].astype(bool))
    benign = groups[~groups["flagged"]].assign(point=groups["risk_score"].round(POINT_SCORE))
    benign = benign.sort_values(["size", "point", "ring_id"])
    first = ~benign.duplicated(["size", "point"]).to_numpy()
    others = np.diff(np.r_[np.flatnonzero(first), len(benign)]) - 1
    return pd.concat([benign[first].drop(columns="point").assign(others=others),
                      groups[groups["flagged"]].assign(others=0)], ignore_index=True)


def signups_chart(signups: pd.DataFrame) -> go.Figure:
    """Stacked bars of signups per day, flagged vs not flagged."""
    fig = go.Figure()
    for status in ("not flagged", "flagged"):
        part = signups[signups["status"] == status]
        fig.add_trace(go.Bar(x=part["period"], y=part["accounts"], name=status,
                             marker_color=STATUS_COLOURS[status]))
    fig.update_layout(barmode="stack")
    return _layout(fig, "Signups per day", "signup date", "accounts", "account")


def ring_size_history(events: pd.DataFrame) -> go.Figure:
    """A ring's size after each detection run that kept its id, by the latest data each run saw."""
    when = events["data_until"].fillna(events["run_at"])
    fig = go.Figure(go.Scatter(
        x=when, y=events["size_after"], mode="lines+markers+text", text=events["event"], textposition="top center",
        hovertext=[f"{_text(e)}: {b} → {a} accounts (+{j}, -{lft})" for e, b, a, j, lft in
                   zip(events["event"], events["size_before"], events["size_after"], events["joined"], events["left"])],
        hoverinfo="text", line=dict(color="#d62728")))
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "Members after each detection run", "data up to", "accounts")


def hubs_chart(hubs: pd.DataFrame, top: int = 20) -> go.Figure:
    """Horizontal bars of the most widely shared suppressed identifier values."""
    part = hubs.head(top).iloc[::-1]
    labels = [f"{_text(k)}: {_text(v[:40])}" for k, v in zip(part["kind"], part["value"].astype(str))]
    fig = go.Figure()
    for kind in sorted(part["kind"].unique()):
        sel = part["kind"] == kind
        fig.add_trace(go.Bar(x=part.loc[sel, "accounts"], y=[lab for lab, s in zip(labels, sel) if s],
                             orientation="h", name=kind, marker_color=KIND_COLOURS.get(kind, "#888")))
    return _layout(fig, f"Suppressed hub identifiers (top {min(top, len(hubs))})", "accounts sharing the value",
                   "identifier value", "identifier kind")


def breakdown_chart(breakdown: pd.DataFrame) -> go.Figure:
    """Horizontal bars: each feature's contribution (log-odds) to the ring's risk score.

    One trace per direction, each in one colour, so the legend's swatches are the bars' colours.
    """
    part = breakdown.iloc[::-1]
    fig = go.Figure()
    for name, colour, rows in (("raises the score", "#d62728", part["contribution"] > 0),
                               ("lowers the score", "#2ca02c", part["contribution"] < 0),
                               ("no effect", "#7f7f7f", part["contribution"] == 0)):
        sel = part[rows]
        if sel.empty:
            continue
        fig.add_trace(go.Bar(x=sel["contribution"], y=sel["feature"], orientation="h", marker_color=colour,
                             name=name, showlegend=True,
                             hovertext=[f"{f}: value {v:.2f}, contribution {c:+.2f}" for f, v, c in
                                        zip(sel["feature"], sel["value"], sel["contribution"])],
                             hoverinfo="text"))
    fig.update_yaxes(categoryorder="array", categoryarray=list(part["feature"]))
    return _layout(fig, "Risk score broken down by feature", "contribution to the score (log-odds)", "feature",
                   "effect on the score")


def signup_burst(members: pd.DataFrame) -> go.Figure:
    """Histogram of the members' signup times: a farm signs up in a burst."""
    fig = go.Figure(go.Histogram(x=members["created_at"], nbinsx=48, name="signups", marker_color=ACCOUNT_COLOUR,
                                 showlegend=True))
    return _layout(fig, "Member signups over time", "signup time", "accounts", "")


def activity_heatmap(activity: pd.DataFrame) -> tuple[go.Figure, str | None]:
    """Heatmap of requests by hour (columns) and account (rows); returns (figure, notice or None)."""
    notice = None
    totals = activity.groupby("account_id")["requests"].sum().sort_values(ascending=False)
    if len(totals) > MAX_HEATMAP_ACCOUNTS:
        notice = (f"Showing the {MAX_HEATMAP_ACCOUNTS} busiest of {len(totals):,} accounts in the heatmap.")
        activity = activity[activity["account_id"].isin(totals.index[:MAX_HEATMAP_ACCOUNTS])]
    grid = activity.pivot_table(index="account_id", columns="bucket", values="requests", aggfunc="sum", fill_value=0)
    if len(grid.columns):
        hours = pd.date_range(grid.columns.min(), grid.columns.max(), freq="h")
        grid = grid.reindex(columns=hours, fill_value=0)
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=grid.columns, y=[_text(a) for a in grid.index],
                               colorscale="Reds", colorbar=dict(title="requests"),
                               hovertemplate="%{y}<br>%{x}<br>%{z} requests<extra></extra>", name="requests"))
    fig.update_yaxes(showticklabels=len(grid) <= 60)
    fig = _layout(fig, "Requests per hour and account (aligned columns = synchronized traffic)", "hour",
                  "account", "")
    return fig, notice
