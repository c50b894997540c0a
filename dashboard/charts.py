"""Pure Plotly chart builders: DataFrame in, figure out. No Streamlit, no store access.

Text from the data goes into hover labels HTML-escaped: Plotly reads a few tags (<br>,
<b>, <a>) in hover text, and an account field must only ever show as text.
"""

from __future__ import annotations

import hashlib
import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from ringwatch.graph.reports.review_charts import log_axis

# Above this many nodes (accounts plus identifier values) the network view is summarised:
# the best-connected accounts and values are kept and a notice says what was left out.
NODE_CAP = 3000
MAX_HEATMAP_ACCOUNTS = 150
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


def risk_histogram(scores: pd.DataFrame) -> go.Figure:
    """Histogram of account risk scores, flagged vs not flagged."""
    fig = go.Figure()
    for status, part in scores.groupby("status"):
        fig.add_trace(go.Histogram(x=part["risk_score"], name=status, xbins=dict(start=0, end=1, size=0.025),
                                   marker_color=STATUS_COLOURS.get(status)))
    fig.update_layout(barmode="stack")
    return _layout(fig, "Risk scores of accounts in linked groups", "account risk score", "accounts", "account")


def rings_scatter(rings: pd.DataFrame) -> go.Figure:
    """Linked groups plotted by size against risk score; flagged rings in red."""
    fig = go.Figure()
    for flagged, part in rings.groupby(rings["flagged"].astype(bool)):
        name = "ring (flagged)" if flagged else "benign linked group"
        fig.add_trace(go.Scatter(
            x=part["size"], y=part["risk_score"], mode="markers", name=name,
            marker=dict(color="#d62728" if flagged else "#1f77b4", size=9, opacity=0.75),
            hovertext=[f"{_text(r)}<br>{s} accounts, risk {v:.2f}" for r, s, v in
                       zip(part["ring_id"], part["size"], part["risk_score"])],
            hoverinfo="text"))
    fig.update_xaxes(**log_axis(rings["size"]))
    return _layout(fig, "Linked groups: size against risk score", "accounts in the group (log scale)",
                   "risk score", "group")


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


def summarise_network(edges: pd.DataFrame, node_cap: int = NODE_CAP) -> tuple[pd.DataFrame, str | None]:
    """Cut an account–identifier edge list to at most ``node_cap`` nodes; returns (edges, notice or None)."""
    accounts = edges["account_id"].nunique()
    links = edges.dropna(subset=["kind"])
    values = links[["kind", "value"]].drop_duplicates()
    if accounts + len(values) <= node_cap:
        return edges, None
    value_deg = links.groupby(["kind", "value"]).size().sort_values(ascending=False)
    keep_values = value_deg.head(max(1, node_cap // 5))
    kept = links.set_index(["kind", "value"]).loc[keep_values.index].reset_index()
    acc_deg = kept.groupby("account_id").size().sort_values(ascending=False, kind="stable")
    keep_acc = set(acc_deg.index[: node_cap - len(keep_values)])
    kept = kept[kept["account_id"].isin(keep_acc)][["account_id", "kind", "value"]]
    notice = (f"Large network: showing {len(keep_acc):,} of {accounts:,} accounts and {len(keep_values):,} of "
              f"{len(values):,} shared identifier values (the best connected).")
    return kept.reset_index(drop=True), notice


def _jitter(key: str, scale: float) -> tuple[float, float]:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    a, b = int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")
    angle, radius = 2 * np.pi * a / 2**32, scale * np.sqrt(b / 2**32)
    return radius * np.cos(angle), radius * np.sin(angle)


def network_layout(edges: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic layout in O(edges): identifier values on a circle grouped by kind, accounts near the values they hold.

    Returns (accounts: account_id, x, y, degree; values: kind, value, x, y, degree). A force
    layout would be prettier but costs seconds for thousands of nodes; this barycentric one
    (each account at the mean of its values, then values pulled towards their accounts)
    keeps groups that share values together and stays fast.
    """
    links = edges.dropna(subset=["kind"])
    values = links.groupby(["kind", "value"]).size().rename("degree").reset_index()
    values = values.sort_values(["kind", "degree", "value"], ascending=[True, False, True]).reset_index(drop=True)
    n = max(len(values), 1)
    angle = 2 * np.pi * np.arange(len(values)) / n
    values["x"], values["y"] = np.cos(angle), np.sin(angle)
    accounts = pd.DataFrame({"account_id": sorted(edges["account_id"].unique())})
    pos = values.set_index(["kind", "value"])[["x", "y"]]
    for _ in range(2):
        joined = links.join(pos, on=["kind", "value"])
        centre = joined.groupby("account_id")[["x", "y"]].mean() * 0.7
        acc = accounts.join(centre, on="account_id")
        joined = links.join(acc.set_index("account_id")[["x", "y"]], on="account_id")
        pulled = joined.groupby(["kind", "value"])[["x", "y"]].mean()
        circle = values.set_index(["kind", "value"])[["x", "y"]]
        pos = circle * 0.6 + pulled.reindex(circle.index).fillna(0) * 0.4
    accounts = accounts.join(centre, on="account_id")
    spread = 0.08 + 0.5 / np.sqrt(max(len(accounts), 1))
    jit = np.array([_jitter(a, spread) for a in accounts["account_id"]]) if len(accounts) else np.zeros((0, 2))
    lone = accounts["x"].isna().to_numpy()
    accounts[["x", "y"]] = accounts[["x", "y"]].fillna(0).to_numpy() + jit * np.where(lone, 4, 1)[:, None]
    accounts["degree"] = accounts["account_id"].map(links.groupby("account_id").size()).fillna(0).astype(int)
    values = values.drop(columns=["x", "y"]).join(pos, on=["kind", "value"])
    return accounts, values


def _edge_path(links: pd.DataFrame, a_pos: pd.DataFrame, v_pos: pd.DataFrame) -> np.ndarray:
    """All edges as one polyline: per value, value→account→value→…, with a gap only between values."""
    links = links.sort_values(["kind", "value", "account_id"])
    n = len(links)
    group = pd.MultiIndex.from_frame(links[["kind", "value"]])
    codes = pd.factorize(group)[0]
    count = int(codes.max()) + 1 if n else 0
    out = np.full((2 * n + count, 2), np.nan, dtype=np.float32)
    at = 2 * np.arange(n) + codes
    out[at] = v_pos.reindex(group).to_numpy()
    out[at + 1] = a_pos.reindex(links["account_id"]).to_numpy()
    return out


def _sizes(degree: pd.Series, base: float, top: float) -> np.ndarray:
    return np.clip(base + 2.5 * np.sqrt(degree.to_numpy(dtype=float)), base, top)


def network_figure(edges: pd.DataFrame, title: str, highlight: str | None = None,
                   flagged: set[str] | None = None) -> go.Figure:
    """WebGL network of accounts and the identifier values linking them, coloured by kind, sized by degree."""
    accounts, values = network_layout(edges)
    a_pos = accounts.set_index("account_id")[["x", "y"]]
    seg = _edge_path(edges.dropna(subset=["kind"]), a_pos, values.set_index(["kind", "value"])[["x", "y"]])
    fig = go.Figure()
    # Edges are one SVG path: WebGL line traces cost seconds per thousand gaps in software
    # rendering (measured: 8,000 edges 3.9 s as Scattergl, 0.7 s as one path per value).
    fig.add_trace(go.Scatter(x=seg[:, 0], y=seg[:, 1], mode="lines", name="shares",
                             line=dict(color="rgba(120,120,120,0.35)", width=1), hoverinfo="skip"))
    for kind, part in values.groupby("kind", sort=True):
        fig.add_trace(go.Scattergl(
            x=part["x"], y=part["y"], mode="markers", name=f"{kind} value",
            marker=dict(symbol="diamond", color=KIND_COLOURS.get(kind, "#888"), size=_sizes(part["degree"], 8, 28),
                        line=dict(width=0.5, color="white")),
            hovertext=[f"{_text(kind)}: {_text(v)}<br>shared by {d} accounts here" for v, d in
                       zip(part["value"], part["degree"])], hoverinfo="text"))
    flagged = flagged or set()
    is_flagged = accounts["account_id"].isin(flagged)
    for name, part, colour in (("account (flagged)", accounts[is_flagged], "#d62728"),
                               ("account", accounts[~is_flagged], ACCOUNT_COLOUR)):
        if part.empty:
            continue
        fig.add_trace(go.Scattergl(
            x=part["x"], y=part["y"], mode="markers", name=name,
            marker=dict(color=colour, size=_sizes(part["degree"], 6, 22), line=dict(width=0.5, color="white")),
            hovertext=[f"account {_text(a)}<br>{d} shared identifier values" for a, d in
                       zip(part["account_id"], part["degree"])], hoverinfo="text"))
    if highlight is not None and highlight in a_pos.index:
        x, y = a_pos.loc[highlight]
        fig.add_trace(go.Scattergl(x=[x], y=[y], mode="markers", name="searched account",
                                   marker=dict(symbol="star", size=22, color="gold", line=dict(width=1, color="black")),
                                   hovertext=[f"account {_text(highlight)}"], hoverinfo="text"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x")
    fig = _layout(fig, title, "layout position (no unit)", "layout position (no unit)", "node")
    fig.update_layout(height=600, hovermode="closest")
    return fig
