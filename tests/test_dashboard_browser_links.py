"""Links and memory in a real browser: a ring and an account opened by URL after a reload, with the name kept.

`ringwatch dashboard` is served locally and driven by Playwright in Debian's Chromium;
screenshots go to test-artifacts/screenshots/ (links-*.png).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from browser_support import (
    WAIT_MS,
    new_page,
    plot_ready,
    serve_dashboard,
    settled,
    shot,
)
from dashboard_store import (
    IMG,
    PAYLOAD_ACCOUNT,
    SCRIPT,
    add_synthetic_ring,
    make_demo_store,
)
from ringwatch.graph.engines import open_engine

pytestmark = pytest.mark.browser

NAME = "Dana Analyst"
NAME_BOX = "input[aria-label='Your name']"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser_links")
    db = make_demo_store(folder)
    big = add_synthetic_ring(db, size=300)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
    demo = rings[rings["flagged"] & (rings["ring_id"] != big)]
    largest = demo.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]
    top = demo.sort_values(["risk_score", "ring_id"], ascending=[False, True]).iloc[0]
    if largest["ring_id"] == top["ring_id"]:  # the link must open a ring the page would not open by itself
        largest = demo.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[1]
    return {"db": db, "folder": folder, "ring": largest["ring_id"], "member": largest["cluster_id"]}


@pytest.fixture(scope="module")
def server(store):
    # No name from the environment: whatever name the page shows came from this browser session.
    with serve_dashboard(store["db"], store["folder"], env={"RINGWATCH_ANALYST": ""}) as url:
        yield url


def _open(page, url: str) -> None:
    page.goto(url)
    page.locator("h1").first.wait_for(timeout=WAIT_MS)
    page.locator(NAME_BOX).wait_for(timeout=WAIT_MS)
    settled(page)


def _ring_shown(page) -> str:
    return page.locator(".st-key-ring input[role=combobox]").input_value()


def test_a_ring_link_survives_a_reload_with_the_name_kept(browser, server, store):
    link = f"{server}/rings?ring={store['ring']}"
    with new_page(browser) as page:
        _open(page, link)
        assert store["ring"] in _ring_shown(page)
        assert page.locator(NAME_BOX).input_value() == ""
        page.get_by_role("tab", name="Members").click()
        settled(page)
        assert page.locator(".st-key-members_csv button:visible").first.is_disabled()  # no name, no action
        page.locator(NAME_BOX).fill(NAME)
        page.locator(NAME_BOX).press("Enter")
        settled(page)
        page.wait_for_function("() => document.cookie.includes('ringwatch_analyst=')", timeout=WAIT_MS)

        page.reload()
        page.locator(NAME_BOX).wait_for(timeout=WAIT_MS)
        settled(page)
        assert page.locator(NAME_BOX).input_value() == NAME
        assert store["ring"] in _ring_shown(page) and page.url == link  # the address still names the ring, only it
        page.get_by_role("tab", name="Members").click()
        settled(page)
        assert page.locator(".st-key-members_csv button:visible").first.is_enabled()
        table = page.locator(".st-key-members_table")
        table.wait_for(timeout=WAIT_MS)
        assert table.bounding_box()["height"] >= 16 * 35  # a header and at least 15 rows
        shot(page, "links-ring-after-reload", 1500)

        # a row opens in the detail pane, its own evidence in full
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)  # the first row's selection box
        page.get_by_text("Open this account in lookup").wait_for(timeout=WAIT_MS)
        detail = page.get_by_test_id("stText").filter(has_text="own_evidence: ").first.inner_text()
        assert detail.startswith("account_id: ") and "ring_reasons: ring " in detail
        assert page.locator("[data-testid=stText] a").count() == 0  # emails and URLs stay text
        shot(page, "links-member-detail", 2200)

        # a member row's "open" link opens that account in lookup in a new tab, the name kept
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        cell = (box["x"] + 165, box["y"] + 35 + 17)  # the first row's "open" cell
        page.mouse.move(*cell)
        page.wait_for_timeout(300)
        with page.expect_popup(timeout=WAIT_MS) as opened:
            page.mouse.click(*cell)
        account = opened.value
        account.locator(NAME_BOX).wait_for(timeout=WAIT_MS)
        settled(account)
        assert account.url.startswith(f"{server}/lookup?account=acct_")
        shown = account.locator(".st-key-account input[role=combobox]").input_value()
        assert account.url.endswith(f"account={shown}") and account.locator(NAME_BOX).input_value() == NAME
        account.close()

        page.get_by_role("button", name="Link to this ring").click()
        code = page.locator("[data-testid=stCode]").filter(has_text="rings?ring=").first
        code.wait_for(timeout=WAIT_MS)
        assert code.inner_text().strip() == link and NAME.split()[0] not in code.inner_text()


def test_an_account_link_in_a_new_tab_keeps_the_name_and_shows_its_timeline(browser, server, store):
    with new_page(browser) as first:
        _open(first, f"{server}/lookup")
        first.locator(NAME_BOX).fill(NAME)
        first.locator(NAME_BOX).press("Enter")
        settled(first)
        first.wait_for_function("() => document.cookie.includes('ringwatch_analyst=')", timeout=WAIT_MS)
        second = first.context.new_page()  # same browser session, a new tab: a new Streamlit session
        link = f"{server}/lookup?account={store['member']}"
        _open(second, link)
        plot_ready(second, "account_timeline", "usage over time")
        plot_ready(second, "member_comparison", "against its ring")
        assert second.locator(NAME_BOX).input_value() == NAME
        assert second.get_by_test_id("stMetric").filter(has_text="Ring").first.inner_text().endswith(store["ring"])
        shot(second, "links-account-timeline", 3400)

        second.get_by_role("link", name=f"Open ring {store['ring']}").click()
        second.get_by_role("heading", name="Rings", exact=True).wait_for(timeout=WAIT_MS)
        settled(second)
        assert store["ring"] in _ring_shown(second) and f"ring={store['ring']}" in second.url

    with new_page(browser) as colleague:  # another browser: the shared link opens the account, not the name
        _open(colleague, link)
        colleague.get_by_test_id("stMetric").filter(has_text="Ring").first.wait_for(timeout=WAIT_MS)
        assert colleague.locator(NAME_BOX).input_value() == ""
        assert store["member"] in colleague.locator(".st-key-account input[role=combobox]").input_value()


def test_an_account_link_with_a_payload_shows_it_as_text(browser, server):
    with new_page(browser) as page:
        _open(page, f"{server}/lookup?account={quote(PAYLOAD_ACCOUNT, safe='')}")
        plot_ready(page, "account_timeline", "usage over time")
        assert "HYPERLINK" in page.locator("[data-testid=stJson]").inner_text()
        assert page.locator(".st-key-account_timeline text", has_text="=HYPERLINK(").count() >= 1
        page.locator(".st-key-account_timeline .js-plotly-plot").hover()
        assert page.locator("img[src='x']").count() == 0 and page.dialogs == []
        assert SCRIPT not in page.url and IMG not in page.url
        shot(page, "links-payload-account", 1800)
