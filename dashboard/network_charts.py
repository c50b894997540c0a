"""The network figure: a laid-out ``NetworkView`` in, a Plotly figure out. No Streamlit, no store access.

Colour says what a node is, shape says its state, so they never collide: identifier values
are diamonds in their kind's colour (open when the detector discounts the value); accounts
are circles, filled when flagged and open when not, in one account colour (a ring's view)
or their ring's colour (a neighbourhood). Every point carries ``customdata`` naming its
node (``["account", id, ""]`` or ``["value", kind, value]``) for click-through. Text from the
data is HTML-escaped in captions and hover labels: Plotly reads a few tags in them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .charts import KIND_COLOURS, _layout, _text

ACCOUNT_COLOUR = "#3b3b3b"
NO_RING_COLOUR = "#9e9e9e"
# Ring colours for neighbourhoods: darker hues than the kinds' (which are Plotly's T10), in this order.
RING_COLOURS = ["#1b7837", "#762a83", "#b35806", "#2166ac", "#8c510a", "#01665e", "#c51b7d", "#4d9221"]
EDGE_COLOUR = "rgba(110,110,110,0.35)"
# A click selects a node; the others stay readable around it.
UNSELECTED = {"marker": {"opacity": 0.45}}


def _sizes(count: pd.Series, base: float, step: float, top: float) -> np.ndarray:
    return np.clip(base + step * np.sqrt(count.to_numpy(dtype=float)), base, top)


def _nodes(kind: str, first, second) -> np.ndarray:
    """customdata rows naming nodes: ``[kind, first, second]`` (an object array: Plotly copies nested lists slowly)."""
    out = np.empty((len(first), 3), dtype=object)
    out[:, 0], out[:, 1], out[:, 2] = kind, np.asarray(first, dtype=object), "" if second is None else \
        np.asarray(second, dtype=object)
    return out


def _edge_path(nodes: pd.DataFrame, edges: pd.DataFrame) -> np.ndarray:
    """All edges as one polyline with a gap after each: one SVG path, however many edges."""
    pos = nodes.set_index("node")[["x", "y"]]
    out = np.full((3 * len(edges), 2), np.nan)
    out[0::3] = pos.reindex(edges["source"]).to_numpy()
    out[1::3] = pos.reindex(edges["target"]).to_numpy()
    return out


def _value_hover(part: pd.DataFrame, summarised: bool) -> list[str]:
    here = "members hold it" if summarised else "accounts here hold it"
    return [f"{_text(k)}: {_text(v)}<br>{m:,} {here}; {h:,} in the whole store" + ("<br>discounted" if d else "")
            for k, v, m, h, d in zip(part["kind"], part["value"], part["members"], part["holders"], part["discounted"])]


def _account_hover(part: pd.DataFrame) -> list[str]:
    return [f"account {_text(a)}<br>{'flagged' if f else 'not flagged'}"
            + (f", ring {_text(r)}" if isinstance(r, str) and r else ", in no ring") + f"<br>{m:,} value(s) shown"
            for a, f, r, m in zip(part["value"], part["flagged"], part["ring_id"], part["members"])]


def _value_traces(values: pd.DataFrame, summarised: bool) -> list[go.Scatter]:
    # No outline on filled markers and captions in one trace of their own: with hundreds of
    # nodes, both cost more in the browser than the markers themselves.
    size = (4, 2.0, 30) if summarised else (9, 3.0, 34)
    traces = []
    for (kind, off), part in values.groupby(["kind", "discounted"], sort=True):
        colour = KIND_COLOURS.get(kind, "#888888")
        traces.append(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", name=f"{kind}" + (" (discounted)" if off else ""),
            marker={"symbol": "diamond-open" if off else "diamond", "color": colour, "opacity": 0.9,
                    "size": _sizes(part["members"], *size), "line": {"width": 2 if off else 0}},
            customdata=_nodes("value", part["kind"], part["value"]), unselected=UNSELECTED,
            hovertext=np.array(_value_hover(part, summarised), dtype=object), hoverinfo="text"))
    named = values[values["caption"] != ""]
    return [*traces, go.Scatter(x=named["x"], y=named["y"], mode="text", text=[_text(c) for c in named["caption"]],
                                textposition="top center", textfont={"size": 10, "color": "#333333"},
                                hoverinfo="skip", showlegend=False, name="captions")]


def _account_traces(accounts: pd.DataFrame, colour_by_ring: bool) -> list[go.Scatter]:
    rings = sorted({r for r in accounts["ring_id"] if isinstance(r, str) and r})
    colour = {r: RING_COLOURS[i % len(RING_COLOURS)] for i, r in enumerate(rings)}
    ring_of = accounts["ring_id"].where(accounts["ring_id"].isin(rings), "")
    groups = accounts.assign(group=ring_of if colour_by_ring else "")
    traces = []
    for (ring, flagged), part in groups.groupby(["group", "flagged"], sort=True):
        tint = colour.get(ring, NO_RING_COLOUR) if colour_by_ring else ACCOUNT_COLOUR
        where = (f"ring {ring}" if ring else "no ring") if colour_by_ring else "account"
        traces.append(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", name=f"{_text(where)}, {'flagged' if flagged else 'not flagged'}",
            marker={"symbol": "circle" if flagged else "circle-open", "color": tint,
                    "size": _sizes(part["members"], 7, 2.0, 16), "line": {"width": 0 if flagged else 2}},
            customdata=_nodes("account", part["value"], None), unselected=UNSELECTED,
            hovertext=np.array(_account_hover(part), dtype=object), hoverinfo="text"))
    return traces


def network_figure(view, title: str, highlight: str | None = None, colour_by_ring: bool = False) -> go.Figure:
    """Accounts and identifier values of a laid-out ``NetworkView``; ``highlight`` marks one account with a star."""
    nodes = view.nodes
    path = _edge_path(nodes, view.edges)
    # One SVG path for every edge: thousands of line traces (or WebGL lines with gaps) cost seconds.
    traces = [go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", name="held together" if view.summarised else "holds",
                         line={"color": EDGE_COLOUR, "width": 1}, hoverinfo="skip"),
              *_value_traces(nodes[nodes["type"] == "value"], view.summarised),
              *_account_traces(nodes[nodes["type"] == "account"], colour_by_ring)]
    star = nodes[(nodes["type"] == "account") & (nodes["value"] == highlight)]
    if highlight is not None and len(star):
        traces.append(go.Scatter(x=star["x"], y=star["y"], mode="markers", name="this account",
                                 marker={"symbol": "star", "size": 22, "color": "gold",
                                         "line": {"width": 1, "color": "black"}},
                                 customdata=_nodes("account", [highlight], None),
                                 hovertext=[f"account {_text(highlight)}"], hoverinfo="text"))
    # Built at once: adding traces one by one copies the figure each time.
    fig = go.Figure(data=traces)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig = _layout(fig, title, "", "", "colour: ring · filled: flagged" if colour_by_ring else
                  "colour: identifier kind · filled: flagged")
    fig.update_layout(height=650, hovermode="closest", clickmode="event+select", dragmode="pan")
    return fig

