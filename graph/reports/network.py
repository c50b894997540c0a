"""A ring's network, laid out to be read: which accounts hang off which identifier value.

A ring is drawn as its members and the identifier values at least two of them share (a
bipartite graph, ``views.ring_network``). Above ``NODE_CAP`` nodes it is summarised: the
values alone, two values joined when members hold both, each sized by the members holding
it. Values the detector discounts (``discounted_values``) are left out unless asked for;
the positions come from a seeded force layout (``layout.force_layout``), so the same
store always gives the same picture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from ringwatch.ingest.normalise import is_free_email_domain

from ..detection.explanations import discounted
from ..detection.params import DetectionParams
from ..engines import Engine
from .layout import force_layout
from .views import EDGE_COLUMNS, ring_network

# Above this many nodes (accounts plus values) a ring is summarised to its values.
NODE_CAP = 400
# ... and a summary keeps at most this many values (the most shared first) and draws at most
# EDGE_CAP links between them (the strongest).
SUMMARY_CAP, EDGE_CAP = 900, 1500
# The most shared values carry a caption of at most CAPTION_CHARS characters.
CAPTIONED, CAPTION_CHARS = 40, 14
NODE_COLUMNS = ["node", "type", "kind", "value", "caption", "members", "holders", "discounted", "flagged", "ring_id",
                "x", "y"]
DISCOUNTED_WORDS = "hubs, popular client strings, free-mail domains"


@dataclass(frozen=True)
class NetworkView:
    """A laid-out network: its nodes and edges, the account–value holdings behind it and what was left out.

    ``nodes``: NODE_COLUMNS; ``type`` is ``account`` or ``value``, ``node`` an id unique in the
    view (``a:<account>`` or ``v:<kind>:<value>``), ``members`` how many accounts in the view
    hold a value, ``holders`` how many hold it in the whole store. ``edges``: source, target
    (node ids) and weight (accounts behind a summarised edge, else 1). ``holdings``:
    account_id, kind, value of every shown value. ``accounts``: account_id, ring_id,
    risk_score, flagged of the accounts the view covers. ``notices``: sentences for the analyst.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    holdings: pd.DataFrame
    accounts: pd.DataFrame
    notices: tuple[str, ...] = ()
    summarised: bool = False


def run_params(engine: Engine) -> DetectionParams:
    """The parameters of the store's last detection run (the defaults before any run)."""
    runs = engine.results("runs")
    if runs.empty:
        return DetectionParams()
    stored = json.loads(runs.sort_values("finished_at")["params"].iloc[-1] or "{}")
    known = {f.name for f in fields(DetectionParams)}
    return DetectionParams(**{k: v for k, v in stored.items() if k in known})


def discounted_values(engine: Engine, values: pd.DataFrame) -> pd.DataFrame:
    """kind, value, holders (accounts holding it in the store) and discounted, for each given value.

    Discounted as the detector discounts it (``explanations.discounted`` with the last
    run's parameters): hubs, client strings too common to be uncommon, and free-mail
    domains, which never link anyone.
    """
    wanted = values[["kind", "value"]].dropna().astype(str).drop_duplicates().reset_index(drop=True)
    if wanted.empty:
        return wanted.assign(holders=pd.Series(dtype="int64"), discounted=pd.Series(dtype=bool))
    held = engine.value_accounts(wanted, per_value=1, limit=len(wanted))[["kind", "value", "holders"]]
    out = wanted.merge(held, on=["kind", "value"], how="left").fillna({"holders": 0})
    out["holders"] = out["holders"].astype("int64")
    degrees = out.rename(columns={"holders": "accounts"})
    free = (out["kind"] == "email_domain") & out["value"].map(is_free_email_domain)
    out["discounted"] = discounted(out, degrees, run_params(engine)).to_numpy() | free.to_numpy()
    return out


def caption(value: str, limit: int = CAPTION_CHARS) -> str:
    """A value shortened for a node caption: its start, an ellipsis when cut."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def account_results(engine: Engine, account_ids) -> pd.DataFrame:
    """account_id, ring_id, risk_score, flagged of these accounts (no result: no ring, 0, not flagged)."""
    wanted = pd.DataFrame({"account_id": sorted(set(map(str, account_ids)))})
    res = engine.results("accounts", wanted)[["account_id", "ring_id", "risk_score", "flagged"]]
    out = wanted.merge(res, on="account_id", how="left")
    return out.fillna({"risk_score": 0.0, "flagged": False}).astype({"flagged": bool})


def ring_graph(engine: Engine, ring_id: str, show_discounted: bool = False, node_cap: int = NODE_CAP) -> NetworkView:
    """A ring's members and shared values, laid out; summarised to the values above ``node_cap`` nodes."""
    edges = ring_network(engine, ring_id)
    members = account_results(engine, edges["account_id"])
    links = edges.dropna(subset=["kind"])
    values = links.groupby(["kind", "value"]).size().rename("members").reset_index()
    values = values.merge(discounted_values(engine, values), on=["kind", "value"], how="left")
    values = values.fillna({"holders": values["members"], "discounted": False})
    notices = []
    hidden = values[values["discounted"].astype(bool)]
    if not show_discounted and len(hidden):
        values = values[~values["discounted"].astype(bool)]
        links = links.merge(values[["kind", "value"]], on=["kind", "value"])
        notices.append(f"{len(hidden):,} discounted value(s) hidden ({DISCOUNTED_WORDS}); the detector does not count "
                       "them as evidence. Use the toggle to show them.")
    if len(members) + len(values) <= node_cap:
        nodes, net = _bipartite(members, values, links)
        return NetworkView(place(nodes, net), net, links[EDGE_COLUMNS].reset_index(drop=True), members,
                           tuple(notices))
    kept = values.sort_values(["members", "kind", "value"], ascending=[False, True, True]).head(SUMMARY_CAP)
    links = links.merge(kept[["kind", "value"]], on=["kind", "value"])
    nodes, net = _summary(kept, links)
    unseen = len(members) - links["account_id"].nunique()
    notices.insert(0, f"Large ring: {len(members):,} accounts and {len(values):,} shared values are more than one "
                      f"picture can show, so each node here is an identifier value, sized by the members holding it, "
                      f"and two values are joined when members hold both. Click a value to list its accounts."
                      + (f" Showing the {len(kept):,} most shared of {len(values):,} values." if len(kept) < len(values)
                         else "")
                      + (f" {unseen:,} member(s) hold none of the values shown (linked by behaviour or by "
                         "discounted values)." if unseen else ""))
    placed = place(nodes, net)
    if len(net) > EDGE_CAP:
        # Laid out with every edge, drawn with the strongest: thousands of faint lines hide the structure.
        notices.append(f"Showing the {EDGE_CAP:,} strongest of {len(net):,} links between values.")
        net = net.sort_values(["weight", "source", "target"], ascending=[False, True, True]).head(EDGE_CAP)
    return NetworkView(placed, net.reset_index(drop=True), links[EDGE_COLUMNS].reset_index(drop=True), members,
                       tuple(notices), summarised=True)


def value_node(kind, value) -> str:
    """The node id of an identifier value."""
    return f"v:{kind}:{value}"


def account_node(account_id) -> str:
    """The node id of an account."""
    return f"a:{account_id}"


def value_nodes(values: pd.DataFrame) -> pd.DataFrame:
    """Value rows (kind, value, members, holders, discounted) as NODE_COLUMNS rows; the most shared carry a caption."""
    out = values.sort_values(["members", "kind", "value"], ascending=[False, True, True]).reset_index(drop=True)
    out["node"] = [value_node(k, v) for k, v in zip(out["kind"], out["value"])]
    out["caption"] = [caption(v) if i < CAPTIONED else "" for i, v in enumerate(out["value"])]
    return out.assign(type="value", flagged=False, ring_id=None, x=0.0, y=0.0)[NODE_COLUMNS]


def account_nodes(accounts: pd.DataFrame, holdings: pd.DataFrame) -> pd.DataFrame:
    """Account rows (account_id, ring_id, flagged) as NODE_COLUMNS rows; ``members`` counts the values each holds."""
    held = holdings.groupby("account_id").size()
    return pd.DataFrame({
        "node": [account_node(a) for a in accounts["account_id"]], "type": "account", "kind": None,
        "value": accounts["account_id"].to_numpy(), "caption": "",
        "members": accounts["account_id"].map(held).fillna(0).astype("int64").to_numpy(), "holders": 1,
        "discounted": False, "flagged": accounts["flagged"].astype(bool).to_numpy(),
        "ring_id": accounts["ring_id"].to_numpy(), "x": 0.0, "y": 0.0})[NODE_COLUMNS]


def _bipartite(members: pd.DataFrame, values: pd.DataFrame, links: pd.DataFrame):
    nodes = pd.concat([value_nodes(values), account_nodes(members, links)], ignore_index=True)
    net = pd.DataFrame({"source": [account_node(a) for a in links["account_id"]],
                        "target": [value_node(k, v) for k, v in zip(links["kind"], links["value"])], "weight": 1})
    return nodes, net


def _summary(values: pd.DataFrame, links: pd.DataFrame):
    """Value nodes joined by the accounts holding both ends (weight: how many)."""
    nodes = value_nodes(values)
    ids = pd.Series(np.arange(len(nodes)), index=nodes["node"])
    numbers = ids.reindex([value_node(k, v) for k, v in zip(links["kind"], links["value"])]).to_numpy()
    held = pd.DataFrame({"account_id": links["account_id"].to_numpy(), "n": numbers})
    pairs = held.merge(held, on="account_id")
    pairs = pairs[pairs["n_x"] < pairs["n_y"]].groupby(["n_x", "n_y"]).size().rename("weight").reset_index()
    names = nodes["node"].to_numpy()
    net = pd.DataFrame({"source": names[pairs["n_x"]], "target": names[pairs["n_y"]], "weight": pairs["weight"]})
    return nodes, net


def place(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Nodes (NODE_COLUMNS) with seeded layout positions, in a fixed order, so the same view lays out the same."""
    nodes = nodes.sort_values(["type", "node"], ascending=[False, True]).reset_index(drop=True)
    ids = pd.Series(np.arange(len(nodes)), index=nodes["node"])
    weights = np.log1p(edges["weight"].to_numpy(dtype=float)) if len(edges) else None
    xy = force_layout(len(nodes), ids.reindex(edges["source"]).to_numpy(), ids.reindex(edges["target"]).to_numpy(),
                      weights)
    nodes["x"], nodes["y"] = xy[:, 0], xy[:, 1]
    return nodes


def value_holders(view: NetworkView, kind: str, value: str) -> pd.DataFrame:
    """The accounts in a view holding one value: account_id, ring_id, risk_score, flagged (highest risk first)."""
    held = view.holdings[(view.holdings["kind"] == kind) & (view.holdings["value"] == value)]["account_id"]
    out = view.accounts[view.accounts["account_id"].isin(held)]
    return out.sort_values(["risk_score", "account_id"], ascending=[False, True]).reset_index(drop=True)
