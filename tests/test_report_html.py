"""The review report an analyst forwards: styled, summarised, explained, escaped, linked and printable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from casework_store import make_worked_store
from click.testing import CliRunner
from dashboard_store import FORMULA, SCRIPT
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import review
from ringwatch.graph.reports.review_page import render_html, review_figures, ring_link

from ringwatch.cli import main

BASE = "https://rw.example.com/desk"


class _Page(HTMLParser):
    """Sections with their heading, note and table, every link, and every script's source text."""

    def __init__(self):
        super().__init__()
        self.sections, self.links, self.scripts, self._in = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append({"id": attrs.get("id"), "h": "", "note": "", "headers": [], "rows": []})
        if tag == "a":
            self.links.append(attrs.get("href"))
        if tag == "tr" and self.sections and self._in and self._in[-1] == "tbody":
            self.sections[-1]["rows"].append([])
        if tag == "p" and attrs.get("class") == "note":
            tag = "note"
        self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in:
            self._in.pop()

    def handle_data(self, data):
        if not self._in or not self.sections:
            return
        where, here = self._in[-1], self.sections[-1]
        if where in ("h1", "h2"):
            here["h"] += data
        elif where == "note":
            here["note"] += data
        elif where == "th":
            here["headers"].append(data)
        elif where in ("td", "a") and here["rows"]:
            here["rows"][-1].append(data)
        elif where == "script":
            self.scripts.append(data)


def _parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    return parsed


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    return make_worked_store(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def rev(worked):
    with open_engine("embedded", worked["db"]) as engine:
        today = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")
        return review.build_review(engine, since=str(worked["last"].date() - pd.Timedelta(days=6)), until=today)


def _section(parsed: _Page, title: str) -> dict:
    return next(s for s in parsed.sections if s["h"].startswith(title))


def test_the_page_opens_with_the_window_a_summary_and_what_is_counted(rev):
    parsed = _parse(render_html(rev, base_url=""))
    top = parsed.sections[0]
    assert top["id"] == "summary" and top["h"] == "Weekly risk review"
    page = render_html(rev, base_url="")
    summary = re.search(r"<p id='summary-text'>(.*?)</p>", page).group(1)
    assert summary.startswith(f"In the window: {rev.counts['new or grown rings']:,} new or grown rings")
    assert "3 decisions made" in summary and "ring held back as a false positive" in summary
    assert "cover only what happened inside the window" in page and "state as of" in page


def test_headings_are_capitalised_and_every_chart_and_table_is_explained_in_one_line(rev):
    parsed = _parse(render_html(rev, base_url=""))
    body = parsed.sections[1:]
    titles = [*(["review queue"] if rev.queue else []), *review_figures(rev), *rev.tables]
    assert rev.queue and len(body) == len(titles)
    for section, title in zip(body, titles):
        assert section["h"].startswith(title[0].upper() + title[1:]), section["h"]
        assert section["note"] and "\n" not in section["note"], title


def test_numbers_carry_thousands_separators_and_right_align(rev):
    page = render_html(rev, base_url="")
    top = rev.tables["top rings by output tokens"]
    biggest = int(top["output_tokens"].iloc[0])
    assert biggest >= 1000 and f"<td class='num'>{biggest:,}</td>" in page and f">{biggest}<" not in page
    assert "<th class=num>output tokens</th>" in page


def test_pending_decisions_say_what_is_pending(rev, worked):
    parsed = _parse(render_html(rev, base_url=""))
    pending = _section(parsed, "Pending decisions")
    assert pending["headers"] == ["ring id", "size", "risk score", "decision"]
    decided = {worked["a"], worked["b"], worked["c"]}
    assert pending["rows"] and all(row[-1] == "none yet" for row in pending["rows"])
    assert not decided & {row[0] for row in pending["rows"]}


def test_stored_text_is_escaped_and_ring_ids_link_to_the_dashboard(rev, worked):
    page = render_html(rev, base_url=BASE)
    assert SCRIPT not in page and "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in page
    parsed = _parse(page)
    made = _section(parsed, "Decisions made")
    assert any(FORMULA in "".join(row) for row in made["rows"])  # a note is text, shown as written
    links = [link for link in parsed.links if link]
    assert f"{BASE}/rings?ring={worked['a']}" in links and all(link.startswith(f"{BASE}/rings?ring=R-") for link in links)
    assert "<script" not in "".join(s for s in parsed.scripts if "alert(" in s)


def test_only_ring_ids_are_linked_and_never_without_a_base_url(rev):
    assert ring_link("R-0123456789", BASE) == f"{BASE}/rings?ring=R-0123456789"
    for hostile in ("R-0123456789'><script>", "javascript:alert(1)", "acct_0000001", "R-XYZ"):
        assert ring_link(hostile, BASE) is None
    assert ring_link("R-0123456789", None) is None
    assert not _parse(render_html(rev, base_url="")).links


def test_the_base_url_comes_from_the_setting_and_must_be_a_web_address(rev, monkeypatch):
    monkeypatch.setenv("RINGWATCH_DASHBOARD_URL", BASE + "/")
    assert f"href='{BASE}/rings?ring=R-" in render_html(rev)
    monkeypatch.setenv("RINGWATCH_DASHBOARD_URL", "javascript:alert(1)")
    with pytest.raises(ValueError, match="RINGWATCH_DASHBOARD_URL must be an http"):
        render_html(rev)


def test_the_page_prints_one_section_per_page(rev):
    page = render_html(rev, base_url="")
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL).group(1)
    rule = re.search(r"@media print\{(.*)\}", style, re.DOTALL).group(1)
    assert "section{" in rule and "break-before:page" in rule and "section#summary{break-before:auto" in rule
    assert "thead{display:table-header-group}" in rule and "@page{size:A4" in style
    assert page.count("<section") == len(_parse(page).sections) == 2 + len(review_figures(rev)) + len(rev.tables)  # summary, queue


def test_the_command_writes_the_styled_page_with_links(worked, tmp_path, monkeypatch):
    monkeypatch.setenv("RINGWATCH_DASHBOARD_URL", BASE)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["review", "--db", str(worked["db"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Window: " in result.output and "decisions made 1" in result.output
    page = out.read_text()
    assert page.startswith("<!doctype html>") and f"href='{BASE}/rings?ring=" in page
    assert page.count("plotly.js v") == 1  # inlined once: the page opens offline
