"""The network views in a real browser: render times, a click from a node to lookup, expanding, payloads as text.

Run with -s to see the render times. Screenshots go to test-artifacts/screenshots/network-*.png.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from browser_support import (
    WAIT_MS,
    choose,
    plot_ready,
    serve_dashboard,
    settled,
    shot,
)
from dashboard_store import (
    FORMULA,
    IMG,
    PAYLOAD_ACCOUNT,
    SCRIPT,
    add_synthetic_ring,
    make_demo_store,
)
from ringwatch.graph.engines import open_engine

pytestmark = pytest.mark.browser

RENDER_BUDGET_S = 3.0
# Page coordinates of every clickable node of the chart under a widget key: node (customdata), x, y.
NODE_POINTS = """(key) => {
    const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, box = el.getBoundingClientRect();
    const out = [];
    el._fullData.forEach(t => (t.customdata || []).forEach((c, i) => out.push({
        node: Array.from(c), x: box.left + xa._offset + xa.l2p(t.x[i]), y: box.top + ya._offset + ya.l2p(t.y[i])})));
    return out;
}"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-network")
    db = make_demo_store(folder)
    big = add_synthetic_ring(db)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
    demo = rings[rings["flagged"] & (rings["ring_id"] != big)]
    largest = demo.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]
    top = demo.sort_values(["risk_score", "ring_id"], ascending=[False, True]).iloc[0]
    return {"db": db, "folder": folder, "big": big, "largest": largest["ring_id"],
            "largest_size": int(largest["size"]), "top": top["ring_id"]}


@pytest.fixture(scope="module")
def server(store):
    with serve_dashboard(store["db"], store["folder"], env={"RINGWATCH_ANALYST": "browser-test"}) as url:
        yield url


def _nodes(page, key: str) -> list[dict]:
    """The chart's clickable nodes, with the page grown so the whole chart is on screen."""
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.wait_for_timeout(500)  # let Plotly follow the resize
    # Lookup draws the account's timeline above its neighbourhood: bring the chart on screen,
    # so the points' coordinates are where a click lands.
    page.locator(f".st-key-{key}").scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    return page.evaluate(NODE_POINTS, key)


def _loneliest(points: list[dict], wanted) -> dict:
    """The wanted node farthest from any other node: a click there can only mean that node."""
    xy = np.array([[p["x"], p["y"]] for p in points])
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    best = max((i for i, p in enumerate(points) if wanted(p["node"])), key=lambda i: gaps[i].min())
    return points[best]


def _click(page, point: dict) -> None:
    page.mouse.move(point["x"], point["y"])
    page.wait_for_timeout(150)  # Plotly finds the hovered point before the click
    page.mouse.click(point["x"], point["y"])


def _no_script_ran(page) -> None:
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("() => Array.from(document.scripts).some(s => s.text.includes(\"alert('xss')\"))") is False


def test_ring_networks_render_in_time_and_an_account_click_opens_lookup(page, server, store):
    page.goto(f"{server}/rings?ring={store['top']}")
    plot_ready(page, "ring_network", store["top"])
    settled(page)
    timings = {}
    for label, ring in (("largest demo ring", store["largest"]), ("synthetic 2,000-account ring", store["big"])):
        started = choose(page, "ring", ring)
        plot_ready(page, "ring_network", ring)
        timings[label] = time.perf_counter() - started
        settled(page)
        assert page.locator(".st-key-ring_network .scatterlayer .trace").count() >= 2  # edges and nodes, as SVG
        shot(page, "network-largest-demo-ring" if ring == store["largest"] else "network-2000-account-ring", 1700)
    print(f"\nring network of the largest demo ring ({store['largest_size']} accounts): "
          f"{timings['largest demo ring']:.2f}s")
    print(f"ring network of the synthetic 2,000-account ring (summarised): "
          f"{timings['synthetic 2,000-account ring']:.2f}s")
    assert max(timings.values()) < RENDER_BUDGET_S, timings
    assert page.get_by_text("Large ring: 2,000 accounts").count() == 1

    choose(page, "ring", store["largest"])
    plot_ready(page, "ring_network", store["largest"])
    settled(page)
    target = _loneliest(_nodes(page, "ring_network"), lambda node: node[0] == "account")
    account = target["node"][1]
    _click(page, target)
    page.get_by_role("heading", name="Account lookup").wait_for(timeout=WAIT_MS)
    plot_ready(page, "neighbourhood", account)
    settled(page)
    assert page.get_by_test_id("stMetric").filter(has_text="Ring").first.inner_text().endswith(store["largest"])
    shot(page, "network-click-through-to-lookup", 2200)
    assert page.dialogs == []


def test_a_value_click_lists_its_accounts_and_payloads_stay_text(page, server, store):
    page.goto(f"{server}/rings?ring={store['big']}")
    plot_ready(page, "ring_network", store["big"])
    settled(page)
    points = _nodes(page, "ring_network")
    client = next(p for p in points if p["node"] == ["value", "user_agent", IMG])
    page.mouse.move(client["x"], client["y"])
    hover = page.locator(".st-key-ring_network .hoverlayer")
    hover.get_by_text("<img src=x", exact=False).wait_for(timeout=WAIT_MS)  # the payload is hover text
    _click(page, next(p for p in points if p["node"] == ["value", "device", SCRIPT]))
    page.get_by_text("account(s) here hold this device value").wait_for(timeout=WAIT_MS)
    settled(page)
    assert page.get_by_test_id("stCode").inner_text().strip() == SCRIPT  # shown as the characters it is made of
    _no_script_ran(page)
    shot(page, "network-2000-account-ring-value-clicked", 2400)
    # picking the first row (the payload account: equal scores, then account id order) opens it in lookup
    page.set_viewport_size({"width": 1400, "height": 2400})
    table = page.locator(".st-key-ring_network_holders")
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)  # the row's selection box, below the header
    page.get_by_role("heading", name="Account lookup").wait_for(timeout=WAIT_MS)
    plot_ready(page, "neighbourhood", FORMULA)
    settled(page)
    _no_script_ran(page)


def test_neighbourhood_expands_a_node_and_opens_an_account(page, server, store):
    page.goto(f"{server}/lookup")
    search = page.get_by_label("Search", exact=True)
    search.wait_for(timeout=WAIT_MS)
    search.fill(PAYLOAD_ACCOUNT)
    search.press("Enter")
    plot_ready(page, "neighbourhood", FORMULA)
    settled(page)
    before = _nodes(page, "neighbourhood")
    shown = {tuple(p["node"]) for p in before}
    assert ("value", "device", SCRIPT) in shown and ("value", "user_agent", IMG) in shown
    assert ("value", "email", FORMULA) not in shown  # single-use: not drawn
    # a farm account (synth_00097, ...): it sends the client string the whole farm sends
    first = _loneliest(before, lambda node: node[0] == "account" and node[1].startswith("synth_0"))
    _click(page, first)
    button = page.locator(".st-key-expand_node button")
    button.wait_for(timeout=WAIT_MS)
    settled(page)
    button.click()
    page.wait_for_function("""([key, n]) => {
        const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
        return el && el._fullData && el._fullData.reduce((s, t) => s + (t.customdata || []).length, 0) > n;
    }""", arg=["neighbourhood", len(before)], timeout=WAIT_MS, polling=200)
    settled(page)
    shot(page, "network-neighbourhood-expanded", 2400)
    after = _nodes(page, "neighbourhood")
    assert len(after) > len(before)
    # the expanded account's own values are drawn now, that client string among them
    assert ("value", "user_agent", "farmbot/1.0") in {tuple(p["node"]) for p in after}
    other = _loneliest(after, lambda node: node[0] == "account" and node[1] not in (PAYLOAD_ACCOUNT, first["node"][1]))
    _click(page, other)
    opener = page.locator(".st-key-open_node button")
    opener.wait_for(timeout=WAIT_MS)
    settled(page)
    opener.click()
    plot_ready(page, "neighbourhood", other["node"][1])
    settled(page)
    assert page.get_by_test_id("stMetric").filter(has_text="Ring").first.inner_text().endswith(store["big"])
    _no_script_ran(page)
    shot(page, "network-neighbourhood-opened-account", 2400)
