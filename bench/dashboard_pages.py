"""Dashboard page times in a real browser: cold (first load after the server starts) and warm (loads after it).

For each page a fresh `ringwatch dashboard` serves the store, so the page's first load, in
a new browser, finds every cache empty. Then, with the server's caches warm, three kinds of
load, as analysts meet them:

- ``new_browser``: a new browser session each time, nothing cached in the browser (another
  analyst's first visit of the day), the whole of Streamlit's and Plotly's code fetched again;
- ``tab``: a new tab of a browser that has shown the dashboard before (a link opened from
  the queue or a ticket): its code is in the browser's cache, the page is a new session;
- ``switch``: in an open dashboard, the sidebar link from another page to this one (how an
  analyst moves between pages): only the page's own run and drawing. Not for the account
  lookup, which opens on an account named in its address.

A page counts as loaded when its main content is drawn (``MARKERS``); ``settled`` is when
Streamlit finished the page's whole run. Not a test: run it by hand, with Debian's Chromium
and Playwright installed.

    python bench/dashboard_pages.py --db detected.duckdb --pages overview rings queue lookup
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_support import WAIT_MS, chromium, new_page, serve_dashboard

# Server start: ``python -c`` so the ``ringwatch`` package on PYTHONPATH is the one timed.
SERVER = [sys.executable, "-c", "import sys; from ringwatch.cli import main; sys.argv[0] = 'ringwatch'; main()"]

# What "the page's main content is drawn" means, per page: a CSS selector to wait for.
MARKERS = {
    "overview": ".st-key-rings_scatter .js-plotly-plot .main-svg",
    "rings": ".st-key-ring_table [data-testid=stDataFrameResizable]",
    "queue": ".st-key-queue_table [data-testid=stDataFrameResizable]",
    "lookup": ".st-key-neighbourhood .js-plotly-plot .main-svg",
}


# The lowest flagged account id, for the lookup page (read in a process of its own, before the server starts).
FIRST_FLAGGED = """import sys
from ringwatch.graph.engines import open_engine
with open_engine("embedded", sys.argv[1]) as engine:
    accounts = engine.results("accounts")
    print(accounts.loc[accounts["flagged"].astype(bool), "account_id"].min())
"""


def _settled(tab) -> None:
    tab.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)


def load(browser, url: str, marker: str) -> dict:
    """One page load in a new browser session: seconds until the marker shows, and until the run finished."""
    with new_page(browser) as tab:
        return _timed(tab, partial(tab.goto, url), marker)


def _timed(tab, start, marker: str, url: str | None = None) -> dict:
    """Seconds from ``start()`` until the marker shows (at ``url``, if given), and until the run finished."""
    started = time.perf_counter()
    start()
    if url:
        tab.wait_for_url(url, timeout=WAIT_MS)
    tab.locator(marker).first.wait_for(timeout=WAIT_MS * 4)
    shown = time.perf_counter() - started
    _settled(tab)
    return {"shown": round(shown, 2), "settled": round(time.perf_counter() - started, 2),
            "errors": tab.console_errors[:3]}


def in_one_browser(browser, base: str, page: str, url: str, loads: int) -> tuple[list[dict], list[dict]]:
    """New tabs of one browser session that has loaded the page once (its cache warm); then, in one
    tab, ``loads`` moves to the page by its sidebar link from another page (none for the lookup)."""
    with new_page(browser) as first:
        _timed(first, partial(first.goto, url), MARKERS[page])
        tabs = []
        for _ in range(loads):
            tab = first.context.new_page()
            tab.console_errors = []
            tab.on("pageerror", lambda exc, tab=tab: tab.console_errors.append(str(exc)))
            tabs.append(_timed(tab, partial(tab.goto, url), MARKERS[page]))
            tab.close()
        if page not in SIDEBAR:
            return tabs, []
        away = "queue" if page != "queue" else "overview"
        switches = []
        for _ in range(loads):
            _timed(first, lambda: _link(first, base, away).click(), MARKERS[away], _href(base, away))
            switches.append(_timed(first, lambda: _link(first, base, page).click(), MARKERS[page], _href(base, page)))
        return tabs, switches


# Pages reached by a sidebar link alone (the lookup needs an account in its address).
SIDEBAR = ("overview", "rings", "queue")


def _href(base: str, page: str) -> str:
    return f"{base}/" if page == "overview" else f"{base}/{page}"


def _link(tab, base: str, page: str):
    return tab.locator(f'[data-testid="stSidebarNav"] a[href="{_href(base, page)}"]').first


def page_url(base: str, page: str, account: str) -> str:
    return {"overview": base, "rings": f"{base}/rings", "queue": f"{base}/queue",
            "lookup": f"{base}/lookup?account={account}"}[page]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--pages", nargs="+", default=list(MARKERS), choices=list(MARKERS))
    parser.add_argument("--warm", type=int, default=2, help="warm loads of each kind per page")
    parser.add_argument("--account", default="", help="account the lookup page opens (default: a flagged one)")
    args = parser.parse_args()
    account = args.account or subprocess.run([sys.executable, "-c", FIRST_FLAGGED, str(args.db)], capture_output=True,
                                             text=True, check=True).stdout.strip()
    folder = args.db.parent
    rows = []
    with chromium() as browser:
        for page in args.pages:
            with serve_dashboard(args.db, folder, command=SERVER) as base:
                url = page_url(base, page, account)
                cold = load(browser, url, MARKERS[page])
                fresh = [load(browser, url, MARKERS[page]) for _ in range(args.warm)]
                tabs, switches = in_one_browser(browser, base, page, url, args.warm)
            row = {"page": page, "cold": cold, "new_browser": fresh, "tab": tabs, "switch": switches}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(table(rows))


def table(rows: list[dict]) -> str:
    """The seconds until each page's main content showed, per kind of load, as a Markdown table."""
    def shown(loads: list[dict]) -> str:
        return ", ".join(f"{load['shown']:.1f}" for load in loads) or "–"

    lines = ["| page | cold | new browser | new tab | switch |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {row['page']} | {shown([row['cold']])} | {shown(row['new_browser'])} | {shown(row['tab'])} "
              f"| {shown(row['switch'])} |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
