"""Dashboard page times in a real browser: cold (first load after the server starts) and warm (loads after it).

For each page a fresh `ringwatch dashboard` serves the store, so the page's first load
finds every cache empty; later loads come from new browser sessions (as another analyst
would). A page counts as loaded when its main content is drawn (``MARKERS``); ``settled``
is when Streamlit finished the page's whole run. Not a test: run it by hand, with
Debian's Chromium and Playwright installed.

    python bench/dashboard_pages.py --db detected.duckdb --pages overview rings queue lookup
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
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
    """One page load in a new session: seconds until the marker shows, and until the run finished."""
    with new_page(browser) as tab:
        started = time.perf_counter()
        tab.goto(url)
        tab.locator(marker).first.wait_for(timeout=WAIT_MS * 4)
        shown = time.perf_counter() - started
        _settled(tab)
        return {"shown": round(shown, 2), "settled": round(time.perf_counter() - started, 2),
                "errors": tab.console_errors[:3]}


def page_url(base: str, page: str, account: str) -> str:
    return {"overview": base, "rings": f"{base}/rings", "queue": f"{base}/queue",
            "lookup": f"{base}/lookup?account={account}"}[page]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--pages", nargs="+", default=list(MARKERS), choices=list(MARKERS))
    parser.add_argument("--warm", type=int, default=2, help="warm loads per page")
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
                warm = [load(browser, url, MARKERS[page]) for _ in range(args.warm)]
            row = {"page": page, "cold": cold, "warm": warm}
            rows.append(row)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
