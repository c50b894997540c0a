"""Pure Plotly builders for one account's timeline: DataFrame in, figure out. No Streamlit, no store access.

Model names, template fingerprints, IPs and account ids are user data: they reach Plotly
only HTML-escaped (Plotly reads a few tags such as <br> and <a> in its text).
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Per measure, at most this many distinct values get a row of their own; the rest are summed as "other".
TOP_VALUES = 12
MEASURES = ("model", "template", "request IP")
ACCOUNT_COLOUR = "#393b79"
TOKEN_COLOUR = "#ff7f0e"
OTHER_COLOUR = "#bdbdbd"
BAR_PX, ROW_PX, GAP_PX = 150, 26, 60


def _esc(value) -> str:
    return html.escape(str(value), quote=False)


def top_values(by: pd.DataFrame, measure: str, top: int = TOP_VALUES) -> tuple[pd.DataFrame, int]:
    """One measure's rows with all but its ``top`` busiest values summed as "other (N values)"; returns (rows, N)."""
    rows = by[by["measure"] == measure]
    busiest = rows.groupby("value")["requests"].sum().sort_values(ascending=False, kind="stable")
    rest = busiest.index[top:]
    if len(rest) == 0:
        return rows[["bucket", "value", "requests"]].reset_index(drop=True), 0
    label = f"other ({len(rest):,} values)"
    rows = rows.assign(value=rows["value"].where(~rows["value"].isin(rest), label))
    return rows.groupby(["bucket", "value"], as_index=False)["requests"].sum(), len(rest)


def account_timeline_figure(totals: pd.DataFrame, by: pd.DataFrame, account_id: str, bucket: str) -> go.Figure:
    """Stacked panels on one time axis: requests, output tokens, then requests per model, template and request IP.

    ``totals`` (bucket, requests, output_tokens) and ``by`` (measure, bucket, value, requests)
    come from ``reports.account_views.account_timeline``; ``bucket`` names the bucket width
    ("hour", "day") for the axis titles. Each value of a measure is a row of dots sized by
    its requests in that bucket, so a switch of model, template or address shows as a dot
    moving to another row.
    """
    measures = [m for m in MEASURES if (by["measure"] == m).any()]
    titles = [f"requests per {bucket}", f"output tokens per {bucket}",
              *[f"requests per {m} and {bucket}" for m in measures]]
    # Every value row gets room for its label: a category axis drops labels it has no room for.
    panels = [BAR_PX, BAR_PX] + [ROW_PX * max(3, len(top_values(by, m)[0]["value"].unique())) for m in measures]
    total = sum(panels) + GAP_PX * (len(panels) - 1)
    fig = make_subplots(rows=len(titles), cols=1, shared_xaxes=True, vertical_spacing=GAP_PX / total,
                        subplot_titles=titles, row_heights=panels)
    fig.add_trace(go.Bar(x=totals["bucket"], y=totals["requests"], name="requests", marker_color=ACCOUNT_COLOUR,
                         hovertemplate="%{x}<br>%{y:,} requests<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=totals["bucket"], y=totals["output_tokens"], name="output tokens",
                         marker_color=TOKEN_COLOUR, hovertemplate="%{x}<br>%{y:,} output tokens<extra></extra>"),
                  row=2, col=1)
    fig.update_yaxes(title_text="requests", row=1, col=1)
    fig.update_yaxes(title_text="tokens", row=2, col=1)
    for i, measure in enumerate(measures, start=3):
        rows, _ = top_values(by, measure)
        peak = max(int(rows["requests"].max()), 1) if len(rows) else 1
        labels = [_esc(v) for v in rows["value"]]
        fig.add_trace(go.Scatter(
            x=rows["bucket"], y=labels, mode="markers", name=measure, showlegend=False,
            marker={"size": 6 + 18 * rows["requests"] / peak, "color": ACCOUNT_COLOUR, "opacity": 0.75},
            customdata=rows["requests"], hovertemplate="%{x}<br>%{y}<br>%{customdata:,} requests<extra></extra>"),
            row=i, col=1)
        order = rows.groupby("value")["requests"].sum().sort_values(kind="stable").index
        fig.update_yaxes(title_text=measure, type="category", categoryorder="array",
                         categoryarray=[_esc(v) for v in order], row=i, col=1)
    fig.update_xaxes(title_text=f"{bucket} (UTC)", row=len(titles), col=1)
    fig.update_layout(title=_esc(f"Account {account_id}: usage over time"), height=total + 150,
                      showlegend=False, bargap=0.1, margin={"l": 10, "r": 10, "t": 70, "b": 10}, template="plotly_white")
    return fig


def comparison_figure(usage: pd.DataFrame, account_id: str, others: list[str], measure: str, bucket: str) -> go.Figure:
    """``measure`` (requests or output_tokens) per bucket: the account bold, the ring's median dashed, ``others`` thin.

    ``usage`` (account_id, bucket, requests, output_tokens) holds every member of the ring;
    the median is taken over all of them per bucket, a member idle in a bucket counting 0.
    """
    label = measure.replace("_", " ")
    fig = go.Figure()
    if usage.empty:
        return _compare_layout(fig, account_id, label, bucket)
    grid = usage.pivot_table(index="bucket", columns="account_id", values=measure, aggfunc="sum", fill_value=0)
    for other in [c for c in others if c in grid.columns and c != account_id]:
        fig.add_trace(go.Scatter(x=grid.index, y=grid[other], mode="lines", name=_esc(other),
                                 line={"width": 1, "color": OTHER_COLOUR},
                                 hovertemplate=f"{_esc(other)}<br>%{{x}}<br>%{{y:,}} {label}<extra></extra>"))
    fig.add_trace(go.Scatter(x=grid.index, y=grid.median(axis=1), mode="lines",
                             name=f"median of the ring's {grid.shape[1]:,} members",
                             line={"width": 2, "dash": "dash", "color": "#2ca02c"},
                             hovertemplate=f"median<br>%{{x}}<br>%{{y:,.0f}} {label}<extra></extra>"))
    if account_id in grid.columns:
        fig.add_trace(go.Scatter(x=grid.index, y=grid[account_id], mode="lines+markers", name=_esc(account_id),
                                 line={"width": 3, "color": ACCOUNT_COLOUR},
                                 hovertemplate=f"{_esc(account_id)}<br>%{{x}}<br>%{{y:,}} {label}<extra></extra>"))
    return _compare_layout(fig, account_id, label, bucket)


def _compare_layout(fig: go.Figure, account_id: str, label: str, bucket: str) -> go.Figure:
    fig.update_layout(title=_esc(f"{label.capitalize()} per {bucket}: {account_id} against its ring's members"),
                      xaxis_title=f"{bucket} (UTC)", yaxis_title=label, legend_title_text="account",
                      height=420, margin={"l": 10, "r": 10, "t": 50, "b": 10}, template="plotly_white")
    return fig
