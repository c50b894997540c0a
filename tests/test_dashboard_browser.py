"""The dashboard in a real browser: `ringwatch dashboard` served locally, driven by Playwright in Debian's Chromium.

Screenshots of each page go to test-artifacts/screenshots/. The render times of the
network view are printed (run with -s to see them) and must stay under three seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard_store import FORMULA, IMG, PAYLOAD_ACCOUNT, SCRIPT, add_synthetic_ring, make_demo_store
from ringwatch.graph.engine import open_engine

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach the (closed) network.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
RENDER_BUDGET_S = 3.0
WAIT_MS = 30_000


def _ringwatch() -> list[str]:
    script = Path(sys.executable).with_name("ringwatch")
    found = str(script) if script.exists() else shutil.which("ringwatch")
    assert found, "the ringwatch command is not installed: pip install -e '.[test]'"
    return [found]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    subprocess.run([*_ringwatch(), "export", "bans", "--db", str(db), "--out", str(expected)], check=True,
                   capture_output=True)
    return {"db": db, "big": big, "largest": largest["ring_id"], "largest_size": int(largest["size"]),
            "top": top["ring_id"], "member": accounts.loc[largest["cluster_id"]], "member_id": largest["cluster_id"],
            "bans": expected.read_bytes(), "folder": folder}


@pytest.fixture(scope="module")
def server(store):
    port = _free_port()
    log = (store["folder"] / "server.log").open("w")
    # Own process group: the command starts Streamlit as a child, and both must stop with the test.
    proc = subprocess.Popen([*_ringwatch(), "dashboard", "--db", str(store["db"]), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ringwatch dashboard did not start:\n" + (store["folder"] / "server.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.dialogs = []

    def on_dialog(dialog):
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield tab
    context.close()


def _shot(page, name: str, height: int = 2000) -> None:
    """Screenshot the page; Streamlit scrolls inside its own container, so grow the window instead of full_page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(400)  # let Plotly follow the resize
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def _settled(page) -> None:
    """Wait until Streamlit has finished the current run (no 'running' status widget)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)


def _plot_ready(page, key: str, title_part: str = "") -> None:
    page.wait_for_function(
        """([key, part]) => {
            const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
            return !!(el && el._fullLayout && el._fullLayout.title
                      && (el._fullLayout.title.text || '').includes(part)
                      && el.querySelector('.main-svg'));
        }""", arg=[key, title_part], timeout=WAIT_MS)
    # one more frame so WebGL traces are on screen, not just queued
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _choose(page, key: str, text: str) -> float:
    """Pick an option of a select box; returns the moment it was picked (perf_counter)."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    box.click()
    box.fill(text)
    option = page.locator("[role=option]", has_text=text).first
    option.wait_for(timeout=WAIT_MS)
    picked = time.perf_counter()
    option.click()
    return picked


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
        assert page.locator(".st-key-ring_network .gl-container canvas").count() >= 1  # WebGL traces
    print(f"\nnetwork view, cold page load with Plotly start-up ({store['top']}): {cold:.2f}s")
    print(f"network view after selecting the largest demo ring ({store['largest_size']} accounts): "
          f"{timings['largest demo ring']:.2f}s")
    print(f"network view after selecting the synthetic 2,000-account ring: "
          f"{timings['synthetic 2,000-account ring']:.2f}s")
    for label, took in timings.items():
        assert took < RENDER_BUDGET_S, f"{label}: network view took {took:.2f}s"

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
    button = page.locator(".st-key-bans_csv button")
    button.wait_for(timeout=WAIT_MS)
    _settled(page)
    with page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    body = Path(info.value.path()).read_bytes()
    assert body == store["bans"]
    assert b"'=HYPERLINK(" in body and b"\n=" not in body
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
    assert page.get_by_text("Data window:").count() >= 1
    assert page.dialogs == []
    _shot(page, "weekly-review", 2600)
