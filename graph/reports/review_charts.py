"""Charts of the weekly review (DataFrame in, Plotly figure out), shared by the HTML report and the dashboard.

The figures carry only ring ids, dates and numbers; the report embeds them offline with
plotly.js included once (``figure_fragments``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

WEEK_COLUMNS = ("new", "grown", "split", "dissolved", "decisions", "accounts newly banned")
# The week-over-week chart's panels: one y axis per measure, so bans never dwarf ring events.
WEEK_PANELS = (("ring changes", ("new", "grown", "split", "dissolved")), ("decisions", ("decisions",)),
               ("accounts newly banned", ("accounts newly banned",)))
WEEK_COLOURS = {"new": "#d62728", "grown": "#ff7f0e", "split": "#9467bd", "dissolved": "#7f7f7f",
                "decisions": "#1f77b4", "accounts newly banned": "#393b79"}


def log_ticks(values) -> tuple[list[float], list[str]]:
    """Tick positions and labels for a log axis over ``values``: 1, 2, 5, 10, 20, 50, ... each labelled in full
    (with thousands separators), so the axis never reads "5, 10, 2, 5, 100"."""
    series = pd.Series(values, dtype=float)
    series = series[series > 0]
    low, high = (float(series.min()), float(series.max())) if len(series) else (1.0, 10.0)
    ticks, decade = [], 1.0
    while decade <= high * 10:
        ticks += [decade * m for m in (1, 2, 5)]
        decade *= 10
    below = [t for t in ticks if t <= low]
    above = [t for t in ticks if t >= high]
    start, stop = ticks.index(below[-1]) if below else 0, ticks.index(above[0]) if above else len(ticks) - 1
    picked = ticks[start:stop + 1]
    if len(picked) > 9:  # a wide range: powers of ten only
        picked = [t for t in picked if float(np.log10(t)).is_integer()] or picked
    return picked, [f"{t:,.0f}" for t in picked]


def log_axis(values) -> dict:
    """Plotly axis settings for a log axis over ``values`` whose every tick is labelled (``log_ticks``)."""
    ticks, labels = log_ticks(values)
    series = pd.Series(values, dtype=float)
    series = series[series > 0]
    # The range spans the data and the first and last tick, so no dot and no outer label is cut off.
    low = min([ticks[0], *([series.min()] if len(series) else [])])
    high = max([ticks[-1], *([series.max()] if len(series) else [])])
    return {"type": "log", "tickvals": ticks, "ticktext": labels,
            "range": [float(np.log10(low)) - 0.05, float(np.log10(high)) + 0.05]}


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, template="plotly_white",
                      margin={"l": 50, "r": 20, "t": 50, "b": 40}, height=360)
    return fig


def rings_by_size_and_risk(rings: pd.DataFrame) -> go.Figure:
    """Flagged rings: size (log axis) against risk score, marker area by requests in the window."""
    fig = go.Figure()
    if len(rings):
        area = rings["requests"].clip(lower=0) if "requests" in rings else pd.Series(1, index=rings.index)
        top = max(float(area.max()), 1.0)
        fig.add_scatter(x=rings["size"], y=rings["risk_score"], mode="markers", text=rings["ring_id"],
                        customdata=area, name="flagged ring (area: requests in the window)", showlegend=True,
                        marker={"size": 8 + 30 * (area / top) ** 0.5, "color": "#d62728", "opacity": 0.7},
                        hovertemplate="%{text}<br>%{x:,} accounts, risk %{y:.2f}<br>%{customdata:,} requests "
                                      "in the window<extra></extra>")
    fig.update_xaxes(**log_axis(rings["size"] if len(rings) else []))
    fig = _layout(fig, "Rings by size and risk (dot area: requests in the window)", "accounts (log scale)",
                  "risk score")
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    return fig


def traffic_by_day(daily: pd.DataFrame, measure: str) -> go.Figure:
    """Requests or output tokens per day, flagged accounts against all others (``daily``: day, group, measure)."""
    fig = go.Figure()
    for group, color in (("flagged", "#d62728"), ("other", "#1f77b4")):
        part = daily[daily["group"] == group] if len(daily) else daily
        fig.add_scatter(x=part["day"] if len(part) else [], y=part[measure] if len(part) else [],
                        mode="lines+markers", name=f"{group} accounts", line={"color": color})
    return _layout(fig, f"{measure.replace('_', ' ').capitalize()} per day", "day", measure.replace("_", " "))


def week_over_week(weeks: pd.DataFrame) -> go.Figure:
    """Ring changes, decisions and newly banned accounts per week: one panel and y axis per measure."""
    fig = make_subplots(rows=len(WEEK_PANELS), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[title.capitalize() for title, _ in WEEK_PANELS])
    x = weeks["week"].astype(str)
    for row, (title, columns) in enumerate(WEEK_PANELS, start=1):
        for column in columns:
            if column in weeks:
                fig.add_bar(x=x, y=weeks[column], name=column, marker_color=WEEK_COLOURS[column], row=row, col=1,
                            hovertemplate=f"week of %{{x}}: %{{y:,}} {column}<extra></extra>")
        fig.update_yaxes(title_text="rings" if title == "ring changes" else "accounts" if "banned" in title
                         else "decisions", rangemode="tozero", tickformat=",d", row=row, col=1)
    fig.update_xaxes(type="category", title_text="week starting (Monday)", row=len(WEEK_PANELS), col=1)
    fig.update_layout(barmode="group", title="Week over week", template="plotly_white", height=620,
                      margin={"l": 60, "r": 20, "t": 60, "b": 40})
    return fig


def figure_fragments(figures: dict[str, go.Figure]) -> list[str]:
    """The figures as HTML fragments; plotly.js is inlined once, with the first, so the page opens offline."""
    return [fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
            for i, fig in enumerate(figures.values())]
