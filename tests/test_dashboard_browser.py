"""The dashboard in a real browser: `ringwatch dashboard` served locally, driven by Playwright in Debian's Chromium.

Screenshots of each page go to test-artifacts/screenshots/. The render times of the
network view are printed (run with -s to see them) and must stay under three seconds.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest

from browser_support import WAIT_MS, ringwatch, serve_dashboard
from browser_support import choose as _choose
from browser_support import plot_ready as _plot_ready
from browser_support import settled as _settled
from browser_support import shot as _shot
from dashboard_store import FORMULA, IMG, PAYLOAD_ACCOUNT, SCRIPT, add_synthetic_ring, make_demo_store
from ringwatch.graph.engines import open_engine

pytestmark = pytest.mark.browser

ANALYST = "browser-test"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    db = make_demo_store(folder)
    big = add_synthetic_ring(db)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
        accounts = engine.accounts().set_index("account_id")
    demo = rings[rings["flagged"] & (rings["ring_id"] != big)]
    largest = demo.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]
    top = demo.sort_values(["risk_score", "ring_id"], ascending=[False, True]).iloc[0]
    expected = folder / "bans-cli.csv"
    # The command line's ban list, made before the server holds the store open.
    subprocess.run([*ringwatch(), "export", "bans", "--db", str(db), "--out", str(expected), "--analyst", "ann"], check=True,
                   capture_output=True)
    return {"db": db, "big": big, "largest": largest["ring_id"], "largest_size": int(largest["size"]),
            "top": top["ring_id"], "member": accounts.loc[largest["cluster_id"]], "member_id": largest["cluster_id"],
            "bans": expected.read_bytes(), "folder": folder}


@pytest.fixture(scope="module")
def server(store):
    # No login configured: the analyst's name comes prefilled from RINGWATCH_ANALYST.
    with serve_dashboard(store["db"], store["folder"], env={"RINGWATCH_ANALYST": ANALYST}) as url:
        yield url


def test_overview_page(page, server):
    page.goto(server)  # the default page lives at /
    page.get_by_role("heading", name="ringwatch overview").wait_for(timeout=WAIT_MS)
    for key in ("risk_hist", "rings_scatter", "signups", "hubs"):
        _plot_ready(page, key)
    _settled(page)
    assert page.get_by_test_id("stMetric").filter(has_text="Accounts").first.inner_text().endswith("5,000")
    # the hub value holding a <script> payload is an axis label drawn as text
    assert page.locator(".st-key-hubs text", has_text="<script>").count() >= 1
    assert page.dialogs == []
    assert page.get_by_text("Page not found").count() == 0
    _shot(page, "overview", 2300)


def test_rings_page_select_a_ring_and_render_the_network(page, server, store):
    started = time.perf_counter()
    page.goto(f"{server}/rings?ring={store['top']}")
    _plot_ready(page, "ring_network", store["top"])
    cold = time.perf_counter() - started
    _settled(page)

    timings = {}
    for label, ring in (("largest demo ring", store["largest"]), ("synthetic 2,000-account ring", store["big"])):
        started = _choose(page, "ring", ring)
        _plot_ready(page, "ring_network", ring)
        timings[label] = time.perf_counter() - started
        _settled(page)
        _shot(page, "rings-largest-demo-ring" if ring == store["largest"] else "rings-2000-account-ring")
        assert page.locator(".st-key-ring_network .scatterlayer .trace").count() >= 2  # edges and nodes
    print(f"\nnetwork view, cold page load with Plotly start-up ({store['top']}): {cold:.2f}s")
    print(f"network view after selecting the largest demo ring ({store['largest_size']} accounts): "
          f"{timings['largest demo ring']:.2f}s")
    print(f"network view after selecting the synthetic 2,000-account ring: "
          f"{timings['synthetic 2,000-account ring']:.2f}s")

    page.get_by_role("tab", name="Timeline").click()
    _plot_ready(page, "activity_heatmap")
    _settled(page)
    assert page.get_by_text("busiest").count() >= 1  # heatmap capped with a notice
    _shot(page, "rings-2000-account-ring-timeline")
    page.get_by_role("tab", name="Evidence").click()
    _plot_ready(page, "breakdown")
    _settled(page)
    _shot(page, "rings-2000-account-ring-evidence")
    assert page.dialogs == []


def test_ban_list_download_matches_the_command_line(page, server, store):
    page.goto(f"{server}/bans")
    button = page.locator(".st-key-bans_csv button:visible").first
    button.wait_for(timeout=WAIT_MS)
    _settled(page)
    with page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    body = Path(info.value.path()).read_bytes()
    assert body == store["bans"]
    assert b"'=HYPERLINK(" in body and b"\n=" not in body
    # the download is an export: recorded, under the analyst's name, with the hash of the bytes handed over
    with open_engine("embedded", store["db"]) as engine:
        exported = engine.records("exports")
    last = exported.iloc[-1]
    assert last["analyst"] == ANALYST and last["path"] == "dashboard download"
    assert last["content_hash"] == hashlib.sha256(body).hexdigest()
    _shot(page, "bans")


def test_account_lookup_by_a_differently_written_email(page, server, store):
    email = store["member"]["email"]
    local, domain = email.split("@")
    query = f"{local.upper()}@{domain.upper()}"
    page.goto(f"{server}/lookup")
    search = page.get_by_label("Search", exact=True)
    search.wait_for(timeout=WAIT_MS)
    search.fill(query)
    search.press("Enter")
    _plot_ready(page, "neighbourhood", store["member_id"])
    _settled(page)
    assert page.get_by_test_id("stMetric").filter(has_text="Ring").first.inner_text().endswith(store["largest"])
    _shot(page, "lookup")


def test_injection_payloads_render_as_text(page, server):
    page.goto(f"{server}/lookup")
    search = page.get_by_label("Search", exact=True)
    search.wait_for(timeout=WAIT_MS)
    search.fill(PAYLOAD_ACCOUNT)
    search.press("Enter")
    _plot_ready(page, "neighbourhood")
    _settled(page)
    # the signup details (st.json) and the reasons (st.text) hold the payloads as visible text
    shown = page.locator("[data-testid=stJson]").inner_text() + page.locator("[data-testid=stText]").inner_text()
    for payload in (SCRIPT, IMG, FORMULA):
        assert payload in shown, payload
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("() => Array.from(document.scripts).some(s => s.text.includes(\"alert('xss')\"))") is False
    page.locator(".st-key-neighbourhood .js-plotly-plot").hover()
    assert page.dialogs == []
    _shot(page, "lookup-injection-payloads")


def test_weekly_review_page(page, server):
    page.goto(f"{server}/review")
    page.get_by_role("heading", name="Weekly review").wait_for(timeout=WAIT_MS)
    _plot_ready(page, "review_chart_0", "Rings by size and risk")
    _settled(page)
    assert page.get_by_text("Window:").count() >= 1
    assert page.dialogs == []
    _shot(page, "weekly-review", 2600)
