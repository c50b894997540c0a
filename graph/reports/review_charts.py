"""Charts of the weekly review (DataFrame in, Plotly figure out), shared by the HTML report and the dashboard.

The figures carry only ring ids, dates and numbers; the report embeds them offline with
plotly.js included once (``figures_html``).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

WEEK_COLUMNS = ("new", "grown", "split", "dissolved", "decisions", "accounts newly banned")


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, template="plotly_white",
                      margin={"l": 50, "r": 20, "t": 50, "b": 40}, height=360)
    return fig


def rings_by_size_and_risk(rings: pd.DataFrame) -> go.Figure:
    """Flagged rings: size against risk score, marker area by requests in the window."""
    fig = go.Figure()
    if len(rings):
        area = rings["requests"].clip(lower=0) if "requests" in rings else pd.Series(1, index=rings.index)
        top = max(float(area.max()), 1.0)
        fig.add_scatter(x=rings["size"], y=rings["risk_score"], mode="markers", text=rings["ring_id"],
                        marker={"size": 8 + 30 * (area / top) ** 0.5, "color": "#d62728", "opacity": 0.7},
                        hovertemplate="%{text}<br>%{x} accounts, risk %{y:.2f}<extra></extra>")
    return _layout(fig, "Rings by size and risk", "accounts", "risk score")


def traffic_by_day(daily: pd.DataFrame, measure: str) -> go.Figure:
    """Requests or output tokens per day, flagged accounts against all others (``daily``: day, group, measure)."""
    fig = go.Figure()
    for group, color in (("flagged", "#d62728"), ("other", "#1f77b4")):
        part = daily[daily["group"] == group] if len(daily) else daily
        fig.add_scatter(x=part["day"] if len(part) else [], y=part[measure] if len(part) else [],
                        mode="lines+markers", name=f"{group} accounts", line={"color": color})
    return _layout(fig, f"{measure.replace('_', ' ').capitalize()} per day", "day", measure.replace("_", " "))


def week_over_week(weeks: pd.DataFrame) -> go.Figure:
    """Ring changes, decisions and bans per week, as grouped bars."""
    fig = go.Figure()
    for column in WEEK_COLUMNS:
        if column in weeks:
            fig.add_bar(x=weeks["week"].astype(str), y=weeks[column], name=column)
    fig.update_layout(barmode="group")
    return _layout(fig, "Week over week", "week starting", "count")


def figures_html(figures: dict[str, go.Figure]) -> str:
    """The figures as HTML fragments; plotly.js is inlined once, with the first, so the page opens offline."""
    parts = []
    for i, fig in enumerate(figures.values()):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}))
    return "\n".join(parts)
