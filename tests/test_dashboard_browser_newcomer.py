"""A newcomer's round trip in a real browser, without typing an id: from the Overview to a
decided, banned ring and back to the weekly review.

Only clicks and the analyst's own name: a ring picked on the Overview's chart, a verdict
recorded on the Rings page, the ban list proposed as a batch, the batch approved by a
second analyst (four-eyes), then the weekly review. Screenshots: newcomer-*.png.
"""

from __future__ import annotations

import pytest
from browser_support import (
    WAIT_MS,
    plot_ready,
    serve_dashboard,
    settled,
    shot,
)
from dashboard_store import make_demo_store
from ringwatch.graph.casework import bans, decisions
from ringwatch.graph.engines import open_engine

pytestmark = pytest.mark.browser

# Page coordinates of the Overview scatter's points: ring id (customdata), x, y.
RING_POINTS = """() => {
    const el = document.querySelector('.st-key-rings_scatter .js-plotly-plot');
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, box = el.getBoundingClientRect();
    const out = [];
    el._fullData.forEach(t => (t.customdata || []).forEach((c, i) => out.push({
        ring: c, flagged: t.name.startsWith('ring'),
        x: box.left + xa._offset + xa.l2p(Math.log10(t.x[i])), y: box.top + ya._offset + ya.l2p(t.y[i])})));
    return out;
}"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-newcomer")
    return {"db": make_demo_store(folder), "folder": folder}


def _name(page, name: str) -> None:
    box = page.get_by_label("Your name", exact=True)
    box.fill(name)
    box.press("Enter")
    settled(page)


def _loneliest(points: list[dict]) -> dict:
    """The flagged ring farthest from any other point: a click there can only mean that ring."""
    def gap(p):
        return min(((p["x"] - q["x"]) ** 2 + (p["y"] - q["y"]) ** 2 for q in points if q is not p), default=1e9)
    return max((p for p in points if p["flagged"]), key=gap)


def test_from_the_overview_to_a_banned_ring_and_the_weekly_review(store, page):
    with serve_dashboard(store["db"], store["folder"]) as url:
        page.set_viewport_size({"width": 1400, "height": 2000})
        page.goto(url)
        page.get_by_role("heading", name="ringwatch overview").wait_for(timeout=WAIT_MS)
        _name(page, "nina newcomer")
        plot_ready(page, "rings_scatter")
        assert page.get_by_label("Your name", exact=True).input_value() == "nina newcomer"
        settled(page)
        point = _loneliest(page.evaluate(RING_POINTS))
        page.mouse.move(point["x"], point["y"])
        page.wait_for_timeout(150)  # Plotly finds the hovered point before the click
        page.mouse.click(point["x"], point["y"])
        ring = point["ring"]

        # The Rings page opens on the clicked ring, with the name kept.
        page.wait_for_url(f"**/rings?ring={ring}", timeout=WAIT_MS)
        plot_ready(page, "ring_network", ring)
        settled(page)
        assert page.get_by_label("Your name", exact=True).input_value() == "nina newcomer"
        shot(page, "newcomer-ring-from-overview")

        page.get_by_role("tab", name="Decision").click()
        page.get_by_text("confirmed fraud", exact=True).first.click()
        page.get_by_role("button", name="Record decision on this ring").click()
        page.get_by_text(f"Recorded: {ring} confirmed fraud", exact=False).first.wait_for(timeout=WAIT_MS)
        settled(page)
        shot(page, "newcomer-decided")

        page.get_by_role("link", name="Ban list").click()
        page.get_by_role("heading", name="Ban list").wait_for(timeout=WAIT_MS)
        settled(page)
        page.get_by_role("button", name="Propose as a ban batch").click()
        page.get_by_text("proposed", exact=False).first.wait_for(timeout=WAIT_MS)
        settled(page)

        page.get_by_role("link", name="Ban batches").click()
        page.get_by_role("heading", name="Ban batches").wait_for(timeout=WAIT_MS)
        settled(page)
        approve = page.get_by_role("button", name="Approve batch")
        assert approve.is_disabled()  # four-eyes: the proposer cannot approve
        _name(page, "lena lead")
        page.get_by_role("button", name="Approve batch").click()
        page.get_by_text("its accounts are banned", exact=False).first.wait_for(timeout=WAIT_MS)
        settled(page)
        shot(page, "newcomer-batch-approved")

        page.get_by_role("link", name="Weekly review").click()
        page.get_by_role("heading", name="Weekly review").first.wait_for(timeout=WAIT_MS)
        # The demo's data ends before today: the review names today's decision as outside its window.
        page.get_by_text("Not counted: 1 decision", exact=False).first.wait_for(timeout=WAIT_MS)
        page.get_by_role("heading", name="Review queue").wait_for(timeout=WAIT_MS)
        settled(page)
        shot(page, "newcomer-weekly-review", 2600)
        assert page.dialogs == []

    with open_engine("embedded", store["db"]) as engine:
        verdicts = decisions.current_decisions(decisions.decisions(engine))
        banned = bans.banned_now(engine)
        members = engine.results("accounts").query("ring_id == @ring")["account_id"]
    assert verdicts.loc[ring, "verdict"] == "confirmed_fraud"
    assert len(members) and set(members) <= set(banned.index)  # every member of the decided ring is banned
