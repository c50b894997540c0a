"""In a real browser: the counts that agree on the Overview, the weekly review's window, and the audit log filtered
and exported. Screenshots go to test-artifacts/screenshots/ (overview-counts, weekly-review-window,
audit-log-filtered, ring-evidence-legend)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import pytest
from browser_support import (
    WAIT_MS,
    plot_ready,
    serve_dashboard,
    settled,
    shot,
)
from casework_store import make_worked_store
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import views

pytestmark = pytest.mark.browser

ANALYST = "browser-audit"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-audit")
    worked = make_worked_store(folder)
    with open_engine("embedded", worked["db"]) as engine:
        head = views.headline(engine)
    return {**worked, "folder": folder, "head": head}


@pytest.fixture(scope="module")
def server(store):
    with serve_dashboard(store["db"], store["folder"], env={"RINGWATCH_ANALYST": ANALYST}) as url:
        yield url


def _metric(page, label: str) -> str:
    return page.get_by_test_id("stMetric").filter(has_text=label).first.inner_text().splitlines()[-1]


def test_overview_counts_the_rings_the_rings_page_lists(page, server, store):
    page.goto(server)
    page.get_by_role("heading", name="ringwatch overview").wait_for(timeout=WAIT_MS)
    plot_ready(page, "rings_scatter", "Linked groups")
    settled(page)
    flagged = store["head"]["rings"]
    assert _metric(page, "Rings flagged") == f"{flagged:,}"
    assert _metric(page, "Rings held back as false positives") == "1"
    # the log axis shows whole numbers only (1-2-5 steps), never Plotly's "2, 5" between powers of ten
    ticks = page.locator(".st-key-rings_scatter .xtick text").all_text_contents()
    assert ticks and all(re.fullmatch(r"[125]0*|[125]0{0,2}(,000)+", t) for t in ticks), ticks
    shot(page, "overview-counts", 2300)
    page.goto(f"{server}/rings")
    page.get_by_text("groups match").first.wait_for(timeout=WAIT_MS)
    caption = page.get_by_text("groups match").first.inner_text()
    assert f"({flagged} rings flagged, 1 ring held back as a false positive)" in caption
    assert page.dialogs == []


def test_the_weekly_review_states_its_window_and_what_it_left_out(page, server):
    page.goto(f"{server}/review")
    page.get_by_role("heading", name="Weekly review").wait_for(timeout=WAIT_MS)
    plot_ready(page, "review_chart_0", "Rings by size and risk")
    settled(page)
    assert page.get_by_text(re.compile(r"^Window: \w{3} \d+ \w{3} \d{4} to ")).count() >= 1
    assert page.get_by_text("Not counted: 2 decisions").count() >= 1
    assert _metric(page, "Decisions made") == "1"
    shot(page, "weekly-review-window", 2600)
    assert page.dialogs == []


def test_filter_the_audit_log_by_account_and_export_it(page, server, store):
    page.goto(f"{server}/audit")
    page.get_by_role("heading", name="Audit log").wait_for(timeout=WAIT_MS)
    settled(page)
    member = store["batch_c"]["accounts"][0]
    box = page.get_by_label("Account id", exact=True)
    box.fill(member)
    box.press("Enter")
    expected = 2 + int(bool(store["batch_c"]["needs_approval"]))  # zed's decision, the batch (and its approval)
    # the page reruns with the filter: the caption then counts only the entries that touched the account
    page.get_by_text(re.compile(rf"^{expected} of \d+ entries match")).first.wait_for(timeout=WAIT_MS)
    settled(page)
    shot(page, "audit-log-filtered", 1400)
    button = page.locator(".st-key-audit_csv button:visible").first
    with page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    body = Path(info.value.path()).read_bytes()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert len(rows) == expected and {r["analyst"] for r in rows} <= {"zed", "bob"}
    assert not any(v.startswith("=") for r in rows for v in r.values())  # the formula note is quoted
    with open_engine("embedded", store["db"]) as engine:
        last = engine.records("exports").iloc[-1]
    assert last["what"] == "audit" and last["analyst"] == ANALYST and last["selection"]["account"] == member
    assert last["content_hash"] == hashlib.sha256(body).hexdigest()
    assert page.dialogs == []


def test_the_evidence_legend_shows_the_bars_colours(page, server, store):
    page.goto(f"{server}/rings?ring={store['a']}")
    page.get_by_role("tab", name="Evidence").click(timeout=WAIT_MS)
    plot_ready(page, "breakdown", "Risk score broken down by feature")
    settled(page)
    legend = page.locator(".st-key-breakdown .legend .traces")
    names = legend.locator("text").all_text_contents()
    assert "raises the score" in names
    # each legend swatch is filled with the colour of its bars
    swatches = legend.locator("path.legendundefined, .legendpoints path").evaluate_all(
        "els => els.map(e => getComputedStyle(e).fill)")
    bars = page.locator(".st-key-breakdown .barlayer .trace").evaluate_all(
        "els => els.map(t => getComputedStyle(t.querySelector('path')).fill)")
    assert swatches and swatches == bars, (swatches, bars)
    shot(page, "ring-evidence-legend", 1600)
    assert page.dialogs == []
