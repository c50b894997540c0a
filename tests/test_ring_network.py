"""The ring network and the neighbourhood read models, their seeded layout and the network figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dashboard_store import (
    FORMULA,
    IMG,
    PAYLOAD_ACCOUNT,
    SCRIPT,
    add_synthetic_ring,
    make_demo_store,
)
from ringwatch.dashboard import network_charts
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import layout, neighbourhood, network, views


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = make_demo_store(tmp_path_factory.mktemp("network"))
    big = add_synthetic_ring(db)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
    demo = rings[rings["flagged"] & (rings["ring_id"] != big)]
    largest = demo.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]
    return {"db": db, "big": big, "largest": largest["ring_id"], "largest_size": int(largest["size"])}


@pytest.fixture(scope="module")
def engine(store):
    with open_engine("embedded", store["db"]) as opened:
        yield opened


def _positions(view) -> pd.DataFrame:
    return view.nodes.set_index("node")[["x", "y"]]


def test_force_layout_is_seeded_bounded_and_keeps_lone_nodes_apart():
    # two stars (0 with 1-4, 5 with 6-9) and two nodes without an edge (10, 11)
    src, dst = [0, 0, 0, 0, 5, 5, 5, 5], [1, 2, 3, 4, 6, 7, 8, 9]
    first = layout.force_layout(12, src, dst)
    assert np.array_equal(first, layout.force_layout(12, src, dst))
    assert not np.array_equal(first, layout.force_layout(12, src, dst, seed=8))
    assert np.abs(first[:10]).max() <= 1.0 + 1e-9
    # each leaf lies nearer its own centre than the other star's centre
    for centre, other, leaves in ((0, 5, [1, 2, 3, 4]), (5, 0, [6, 7, 8, 9])):
        near = np.linalg.norm(first[leaves] - first[centre], axis=1)
        far = np.linalg.norm(first[leaves] - first[other], axis=1)
        assert (near < far).all()
    # the lone nodes sit in a row below the drawing
    assert (first[10:, 1] < first[:10, 1].min()).all()


def test_discounted_values_follow_the_detectors_rule(engine):
    params = network.run_params(engine)
    assert params.hub_cap == DetectionParams().hub_cap  # the demo runs with the defaults
    ids = engine.account_identifiers(["synth_00001"])
    # farmbot/1.0 is held by the ring's 1,997 accounts: below the hub cap, an uncommon client string by the rule
    judged = network.discounted_values(engine, pd.concat([ids, pd.DataFrame(
        {"kind": ["email_domain", "payment"], "value": ["gmail.com", "pm_nobody"]})]))
    row = judged.set_index(["kind", "value"])
    assert row.loc[("user_agent", "farmbot/1.0"), "holders"] == 1997
    assert not row.loc[("user_agent", "farmbot/1.0"), "discounted"]
    assert row.loc[("email_domain", "gmail.com"), "discounted"]  # free mail never links
    assert row.loc[("payment", "pm_nobody"), "holders"] == 0
    # a lower cap in the stored run turns the same client string into a discounted one
    runs = engine.results("runs")
    low = runs.assign(params=runs["params"].str.replace('"rare_client_max_accounts": 2000',
                                                        '"rare_client_max_accounts": 1000'))
    saved = {name: engine.results(name) for name in ("accounts", "rings", "ring_evidence", "suppressed_hubs")}
    engine.save_results({**saved, "runs": low})
    try:
        assert network.discounted_values(engine, ids).set_index(["kind", "value"]).loc[
            ("user_agent", "farmbot/1.0"), "discounted"]
        view = network.ring_graph(engine, _ring_of(engine, "synth_00001"))
        assert not ((view.nodes["kind"] == "user_agent") & (view.nodes["value"] == "farmbot/1.0")).any()
        assert any("discounted value(s) hidden" in n for n in view.notices)
        shown = network.ring_graph(engine, _ring_of(engine, "synth_00001"), show_discounted=True)
        farmbot = shown.nodes[(shown.nodes["kind"] == "user_agent") & (shown.nodes["value"] == "farmbot/1.0")]
        assert farmbot["discounted"].tolist() == [True]
    finally:
        engine.save_results({**saved, "runs": runs})


def _ring_of(engine, account_id: str) -> str:
    res = engine.results("accounts")
    return res.loc[res["account_id"] == account_id, "ring_id"].iloc[0]


def test_ring_graph_is_bipartite_laid_out_and_the_same_every_time(engine, store):
    view = network.ring_graph(engine, store["largest"])
    assert not view.summarised
    accounts = view.nodes[view.nodes["type"] == "account"]
    values = view.nodes[view.nodes["type"] == "value"]
    assert len(accounts) == store["largest_size"]
    # every shared value of the ring is a node, sized by the members holding it
    edges = views.ring_network(engine, store["largest"]).dropna(subset=["kind"])
    counts = edges.groupby(["kind", "value"]).size()
    assert values.set_index(["kind", "value"])["members"].sort_index().equals(counts.sort_index().rename("members"))
    assert (values["holders"] >= values["members"]).all()
    # edges join accounts to values, one per holding
    assert len(view.edges) == len(view.holdings) == len(edges)
    assert set(view.edges["source"]) <= set(accounts["node"]) and set(view.edges["target"]) <= set(values["node"])
    # captions are shortened values; account flags come from the stored results
    assert (values["caption"].str.len() <= network.CAPTION_CHARS).all() and (values["caption"] != "").any()
    assert accounts["flagged"].all()
    again = network.ring_graph(engine, store["largest"])
    assert _positions(view).equals(_positions(again))
    # accounts sit nearer the values they hold than the average node does
    pos = _positions(view)
    held = np.linalg.norm(pos.loc[view.edges["source"]].to_numpy() - pos.loc[view.edges["target"]].to_numpy(), axis=1)
    pairs = np.linalg.norm(pos.to_numpy()[:, None] - pos.to_numpy()[None], axis=2)
    assert held.mean() < pairs[np.triu_indices(len(pos), 1)].mean() / 2


def test_a_large_ring_is_summarised_to_its_values(engine, store):
    view = network.ring_graph(engine, store["big"])
    assert view.summarised and (view.nodes["type"] == "value").all()
    assert "Large ring: 2,000 accounts" in view.notices[0]
    values = view.nodes.set_index(["kind", "value"])
    assert values.loc[("user_agent", "farmbot/1.0"), "members"] == 1997
    assert values.loc[("device", SCRIPT), "members"] == 2
    # two values are joined by the members holding both: a payment and the client string all of them send
    pay = network.value_node("payment", "pm_synth5")
    bot = network.value_node("user_agent", "farmbot/1.0")
    edge = view.edges[((view.edges["source"] == pay) & (view.edges["target"] == bot))
                      | ((view.edges["source"] == bot) & (view.edges["target"] == pay))]
    assert edge["weight"].tolist() == [20]
    holders = network.value_holders(view, "device", SCRIPT)
    assert set(holders["account_id"]) == {PAYLOAD_ACCOUNT, "synth_script"}
    small = network.ring_graph(engine, store["big"], node_cap=10_000)
    assert not small.summarised and (small.nodes["type"] == "account").sum() == 2000


def test_the_figure_keeps_kind_colours_apart_from_account_state_and_escapes_text(engine, store):
    view = network.ring_graph(engine, store["big"], node_cap=10_000)
    fig = network_charts.network_figure(view, "big ring")
    values = [t for t in fig.data if t.marker and t.marker.symbol in ("diamond", "diamond-open")]
    accounts = [t for t in fig.data if t.marker and t.marker.symbol in ("circle", "circle-open")]
    assert values and accounts
    assert {t.marker.color for t in accounts} == {network_charts.ACCOUNT_COLOUR}
    assert network_charts.ACCOUNT_COLOUR not in {t.marker.color for t in values}
    assert fig.data[0].mode == "lines" and fig.data[0].hoverinfo == "skip"
    assert len(fig.data[0].x) == 3 * len(view.edges)
    text = _texts(fig)
    assert "&lt;script&gt;" in text and "<script>" not in text and "<img" not in text
    data = [list(c) for t in fig.data if t.customdata is not None for c in t.customdata]
    assert ["account", PAYLOAD_ACCOUNT, ""] in data
    assert ["value", "device", SCRIPT] in data
    assert not fig.layout.xaxis.visible and not fig.layout.xaxis.title.text


def _texts(fig) -> str:
    """Every hover label and caption of a figure."""
    parts = [list(v) for t in fig.data for v in (t.hovertext, t.text) if v is not None and not isinstance(v, str)]
    return "\n".join(str(p) for part in parts for p in part)


def test_neighbourhood_follows_only_values_that_carry_evidence(engine):
    view = neighbourhood.neighbourhood_graph(engine, "synth_00001", hops=1)
    values = view.nodes[view.nodes["type"] == "value"]
    # its email is its own (single-use) and is not drawn; its device, card and IP are shared
    assert "email" not in set(values["kind"])
    assert {"device", "payment", "ip"} <= set(values["kind"])
    assert (values["holders"] >= 2).all()
    assert any("no other account holds" in n for n in view.notices)
    # farmbot/1.0 is held by 1,997 accounts: drawn, not followed
    bot = values[values["kind"] == "user_agent"]
    assert bot["value"].tolist() == ["farmbot/1.0"] and bot["members"].tolist() == [1]
    assert any("not followed" in n for n in view.notices)
    accounts = view.nodes[view.nodes["type"] == "account"]
    ring = _ring_of(engine, "synth_00001")
    assert (accounts["ring_id"] == ring).all() and accounts["flagged"].all()
    assert len(accounts) < 60


def test_neighbourhood_expands_one_node_at_a_time_and_is_capped(engine):
    base = neighbourhood.neighbourhood_graph(engine, "synth_00001", hops=1)
    grown = neighbourhood.neighbourhood_graph(engine, "synth_00001", hops=1,
                                              expand=(("value", "user_agent", "farmbot/1.0"),))
    assert (grown.nodes["type"] == "account").sum() > (base.nodes["type"] == "account").sum()
    other = base.holdings.loc[base.holdings["account_id"] != "synth_00001", "account_id"].iloc[0]
    by_account = neighbourhood.neighbourhood_graph(engine, "synth_00001", hops=1, expand=(("account", other),))
    assert set(base.nodes["node"]) < set(by_account.nodes["node"])
    two = neighbourhood.neighbourhood_graph(engine, "synth_00001", hops=2, node_cap=40)
    assert len(two.nodes) <= 40 and any("capped at 40 nodes" in n for n in two.notices)
    assert network.account_node("synth_00001") in set(two.nodes["node"])


def test_neighbourhood_colours_by_ring_and_keeps_payloads_as_text(engine):
    view = neighbourhood.neighbourhood_graph(engine, PAYLOAD_ACCOUNT, hops=1)
    values = view.nodes[view.nodes["type"] == "value"].set_index(["kind", "value"])
    assert ("device", SCRIPT) in values.index and ("user_agent", IMG) in values.index
    assert ("email", FORMULA) not in values.index  # single-use
    fig = network_charts.network_figure(view, f"Accounts linked to {PAYLOAD_ACCOUNT}", highlight=PAYLOAD_ACCOUNT,
                                        colour_by_ring=True)
    names = [t.name for t in fig.data]
    assert any(n.startswith("ring ") and n.endswith(", flagged") for n in names) and "this account" in names
    ring_traces = [t for t in fig.data if t.name and t.name.startswith("ring ")]
    assert {t.marker.color for t in ring_traces} <= set(network_charts.RING_COLOURS)
    text = _texts(fig)
    assert "&lt;img src=x" in text and "<img" not in text
