"""The review queue in a real browser: take a ring, see who holds it here and on the Rings page, release it.

Screenshots go to test-artifacts/screenshots/ (queue-*.png).
"""

from __future__ import annotations

import re

import pytest
from browser_support import WAIT_MS, serve_dashboard
from browser_support import plot_ready as _plot_ready
from browser_support import settled as _settled
from browser_support import shot as _shot
from dashboard_store import make_demo_store
from ringwatch.graph.casework import policy, queue
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import queue_views

pytestmark = pytest.mark.browser

ANALYST = "queue-tester"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser_queue")
    db = make_demo_store(folder)
    with open_engine("embedded", db) as engine:
        table = queue_views.queue(engine)
        # Every open ring is overdue at 0 days: the highlighted rows are on screen.
        policy.set_policy(engine, "overdue-days", "0", "lead", "show overdue rows")
        queue.take(engine, table["ring_id"].iloc[1], "lead")  # one ring someone else holds
    return {"db": db, "folder": folder, "top": table["ring_id"].iloc[0], "held": table["ring_id"].iloc[1]}


@pytest.fixture(scope="module")
def server(store):
    with serve_dashboard(store["db"], store["folder"], env={"RINGWATCH_ANALYST": ANALYST}) as url:
        yield url


def _header(page, text: str = "Queue:"):
    """The queue line of the page (with ``text`` in it: a rerun may still show the previous run's line)."""
    return page.get_by_test_id("stMarkdown").filter(has_text="Queue:").filter(has_text=text).first


def _events(db):
    with open_engine("embedded", db) as engine:
        return queue.events(engine)


def test_take_a_ring_see_the_owner_and_release_it(page, server, store):
    top, held = store["top"], store["held"]
    page.goto(f"{server}/queue")
    page.get_by_role("heading", name="Review queue").wait_for(timeout=WAIT_MS)
    _header(page).wait_for(timeout=WAIT_MS)
    _settled(page)
    assert "nobody holds it" in _header(page).inner_text() and "overdue" in _header(page).inner_text()
    assert page.get_by_test_id("stMetric").filter(has_text="In review").first.inner_text().endswith("1")
    _shot(page, "queue-page")

    page.locator(".st-key-queue_take button:visible").first.click()
    page.get_by_text(f"You took {top}.").wait_for(timeout=WAIT_MS)
    _header(page, f"held by {ANALYST}").wait_for(timeout=WAIT_MS)
    _settled(page)
    assert page.get_by_test_id("stMetric").filter(has_text="In review").first.inner_text().endswith("2")
    page.locator(".st-key-queue_mine label").click()  # My rings
    page.get_by_text(re.compile(r"^1 of \d+ rings in the queue match")).wait_for(timeout=WAIT_MS)
    _settled(page)
    _shot(page, "queue-taken-my-rings")

    page.goto(f"{server}/rings?ring={held}")
    page.get_by_text("held by lead").first.wait_for(timeout=WAIT_MS)
    _settled(page)
    take = page.locator(".st-key-ring_header_take button:visible").first
    assert take.is_disabled()  # lead holds it

    page.goto(f"{server}/rings?ring={top}")
    _header(page, f"held by {ANALYST}").wait_for(timeout=WAIT_MS)
    _plot_ready(page, "ring_network", top)
    _settled(page)
    assert "in review" in _header(page).inner_text()
    _shot(page, "queue-rings-page-owner")
    page.locator(".st-key-ring_header_release button:visible").first.click()
    page.get_by_text(f"Released {top}.").wait_for(timeout=WAIT_MS)
    _header(page, "nobody holds it").wait_for(timeout=WAIT_MS)
    _plot_ready(page, "ring_network", top)
    _settled(page)
    _shot(page, "queue-rings-page-released")

    events = _events(store["db"])
    assert events[events["ring_id"] == top][["action", "analyst"]].values.tolist() == [
        ["take", ANALYST], ["release", ANALYST]]
    assert page.dialogs == [] and page.console_errors == []


def test_the_weekly_review_page_shows_queue_health(page, server):
    page.goto(f"{server}/review")
    page.get_by_role("heading", name="Review queue").wait_for(timeout=WAIT_MS)
    _settled(page)
    health = page.get_by_test_id("stMarkdown").filter(has_text="open now:").first.inner_text()
    assert health.startswith("open now: ") and "in review: " in health
    # Lay the tall page out first and let its charts and tables draw, then take the picture at that size.
    page.set_viewport_size({"width": 1400, "height": 3000})
    _plot_ready(page, "review_chart_0")
    page.get_by_text("Open the review queue").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    _shot(page, "queue-weekly-review-health", 3000)
    assert page.dialogs == [] and page.console_errors == []
