"""The weekly review as a page an analyst forwards: one self-contained HTML file, styled for reading and printing.

The page opens with the window and a short summary, then one section per chart and per
table of the ``Review`` (every one explained in one line from ``Review.notes``), each a
printed page of its own. Every stored value is HTML-escaped; numbers carry thousands
separators; ring ids link to the dashboard when its address is configured
(``RINGWATCH_DASHBOARD_URL``), and only ids of the ring-id form, URL-encoded. A section
added to the review (a table in ``Review.tables`` with a line in ``Review.notes``) is
rendered like the others, with no change here.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd

from ringwatch.settings import SETTINGS

from ..casework.vocabulary import verdict_label
from . import review_charts
from .case_views import count_phrase
from .review import NO_ACTIVITY, STATE_TABLES, Review, queue_health_lines

RING_ID = re.compile(r"R-[0-9a-f]{10}")
RING_COLUMNS = ("ring_id", "target", "related_ids")
TIME_COLUMNS = ("at", "last_request", "first_seen", "last_seen")
STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
main{max-width:1040px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:28px;margin:8px 0 4px}h2{font-size:20px;margin:0 0 4px}
.window{color:#454c5a;margin:0 0 16px}.note{color:#454c5a;margin:0 0 12px;font-size:14px}
.rows{color:#6b7280;font-weight:normal;font-size:14px;margin-left:6px}
section{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:18px 22px;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:12px 0}
.card{border:1px solid #e3e6eb;border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:24px}.card span{color:#454c5a;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th{background:#eef1f5;text-align:left;font-weight:600;padding:6px 10px;border-bottom:2px solid #d5dae1}
td{padding:5px 10px;border-bottom:1px solid #e8ebef;vertical-align:top}
tbody tr:nth-child(even){background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.id{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
a{color:#1d4ed8}
@page{size:A4;margin:14mm}
@media print{
 body{background:#fff;font-size:11pt}main{max-width:none;padding:0}
 section{border:none;padding:0;margin:0;break-before:page;page-break-before:always}
 section#summary{break-before:auto;page-break-before:auto}
 table{font-size:9.5pt}thead{display:table-header-group}tr{break-inside:avoid;page-break-inside:avoid}
 a{color:inherit;text-decoration:none}.modebar{display:none!important}
}
"""


def dashboard_url() -> str | None:
    """The dashboard's address from ``RINGWATCH_DASHBOARD_URL`` (None when unset); only http(s) addresses."""
    url = SETTINGS["dashboard_url"].value().strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{SETTINGS['dashboard_url'].env} must be an http:// or https:// address, got {url!r}")
    return url.rstrip("/")


def ring_link(ring_id: str, base_url: str | None) -> str | None:
    """The dashboard address of a ring, or None (no base URL, or not a ring id)."""
    if not base_url or not RING_ID.fullmatch(str(ring_id)):
        return None
    return f"{base_url}/rings?ring={quote(str(ring_id), safe='')}"


def _day(stamp: pd.Timestamp) -> str:
    return f"{stamp:%a} {stamp.day} {stamp:%b %Y}"


def window_text(review: Review) -> str:
    """The window in words, as the page and the dashboard state it."""
    end = review.end if review.end is not None else review.since + pd.Timedelta(days=7)
    last = end - pd.Timedelta(days=1)
    days = (end - review.since).days
    span = _day(review.since) if days == 1 else f"{_day(review.since)} to {_day(last)}"
    data = "no usage inside it" if review.until is None else f"usage data up to {review.until:%d %b %Y %H:%M}"
    return f"Window: {span} (UTC, {days} whole day{'s' if days != 1 else ''}); {data}."


def scope_text(review: Review) -> str:
    """What the counts cover, what is state as of the review's making, and what was left out."""
    as_of = f"{review.as_of:%d %b %Y %H:%M} UTC" if review.as_of is not None else "the review's making"
    text = (f"Counts, ring changes, traffic, decisions and bans cover only what happened inside the window; the "
            f"{' and '.join(STATE_TABLES)} tables show the state as of {as_of}.")
    later = {k: v for k, v in (review.after or {}).items() if v}
    if later:
        text += (" Not counted: " + " and ".join(_many(v, k.removesuffix("s"), k) for k, v in later.items())
                 + " recorded after the window (a later review counts them).")
    return text


def _many(n: int, one: str, more: str) -> str:
    return f"{n:,} {one if n == 1 else more}"


def summary_text(review: Review) -> str:
    """The review in one or two sentences."""
    c = review.counts
    if not review.activity:
        text = NO_ACTIVITY
    else:
        text = (f"In the window: {_many(c.get('new or grown rings', 0), 'new or grown ring', 'new or grown rings')}, "
                f"{_many(c.get('rings active in the window', 0), 'ring', 'rings')} active, "
                f"{c.get('rings gone quiet', 0):,} gone quiet; "
                f"{_many(c.get('decisions made', 0), 'decision', 'decisions')} made, "
                f"{_many(c.get('accounts newly banned', 0), 'account', 'accounts')} newly banned and "
                f"{_many(c.get('bans reversed', 0), 'ban', 'bans')} reversed.")
    state = {k: v for k, v in (review.state or {}).items() if k != "benign linked groups"}
    if state:
        as_of = f"{review.as_of:%d %b %Y %H:%M} UTC" if review.as_of is not None else "now"
        pending = review.tables.get("pending decisions")
        parts = [count_phrase(v, k) for k, v in state.items()]
        if pending is not None:
            parts.append(f"{len(pending):,} awaiting a decision")
        text += f" As of {as_of}: " + ", ".join(parts) + "."
    return text


def review_figures(review: Review) -> dict:
    """The review's charts by title; the week-over-week chart only when the history spans several weeks."""
    figures = {}
    rings, daily = review.chart_data.get("rings"), review.chart_data.get("daily")
    if rings is not None and len(rings):
        figures["rings by size and risk"] = review_charts.rings_by_size_and_risk(rings)
    if daily is not None and len(daily):
        figures["requests per day"] = review_charts.traffic_by_day(daily, "requests")
        figures["output tokens per day"] = review_charts.traffic_by_day(daily, "output_tokens")
    weeks = review.tables.get("week over week")
    if weeks is not None and len(weeks) >= 2:
        figures["week over week"] = review_charts.week_over_week(weeks)
    return figures


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value))


def _cell(column: str, value, base_url: str | None) -> tuple[str, str]:
    """One cell as (class, escaped HTML)."""
    if _missing(value) or value == "":
        return "", ""
    if isinstance(value, (bool, np.bool_)):
        return "", "yes" if value else "no"
    if isinstance(value, int) or (hasattr(value, "dtype") and pd.api.types.is_integer_dtype(value.dtype)):
        return "num", f"{int(value):,}"
    if isinstance(value, float):
        return "num", f"{value:.3f}" if column == "risk_score" else f"{value:,.2f}"
    if column in TIME_COLUMNS:
        try:
            stamp = pd.Timestamp(value)
            return "num", html.escape(f"{stamp:%Y-%m-%d %H:%M}")
        except (ValueError, TypeError):
            pass
    if column == "verdict":
        return "", html.escape(verdict_label(value))
    if column in RING_COLUMNS:
        links = []
        for part in str(value).split(","):
            href = ring_link(part, base_url)
            text = html.escape(part)
            links.append(f"<a href='{html.escape(href, quote=True)}'>{text}</a>" if href else text)
        return "id", ", ".join(links)
    return "", html.escape(str(value))


def table_html(frame: pd.DataFrame, base_url: str | None = None) -> str:
    """A table as escaped HTML: headers in words, numbers right-aligned with thousands separators, ring ids linked."""
    if frame is None or frame.empty:
        return "<p class='note'>None.</p>"
    cells = [[_cell(c, v, base_url) for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)]
    numeric = [all(cls == "num" or not text for cls, text in col) for col in zip(*cells)]
    head = "".join(f"<th{' class=num' if n else ''}>{html.escape(str(c).replace('_', ' '))}</th>"
                   for c, n in zip(frame.columns, numeric))
    body = "".join("<tr>" + "".join(f"<td class='{cls}'>{text}</td>" if cls else f"<td>{text}</td>"
                                    for cls, text in row) + "</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def section(title: str, note: str | None, body: str, rows: int | None = None) -> str:
    """One section of the page: heading, a one-line note, the body (already HTML)."""
    count = "" if rows is None else f"<span class='rows'>{rows:,} row{'s' if rows != 1 else ''}</span>"
    line = f"<p class='note'>{html.escape(note)}</p>" if note else ""
    return (f"<section id='{_anchor(title)}'><h2>{html.escape(title[:1].upper() + title[1:])}{count}</h2>"
            f"{line}{body}</section>")


def queue_health_html(health: dict) -> str:
    """The review queue's health as a list (``review.queue_health_lines``)."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in queue_health_lines(health))
    return f"<ul id='queue-health'>{items}</ul>"


def render_html(review: Review, base_url: str | None = None) -> str:
    """The review as one self-contained HTML page (no external resources); ``base_url`` defaults to the setting."""
    base_url = dashboard_url() if base_url is None else base_url.rstrip("/")
    cards = "".join(f"<div class='card'><b>{v:,}</b><span>{html.escape(k)}</span></div>"
                    for k, v in review.counts.items())
    parts = [
        ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
         "<meta name='viewport' content='width=device-width,initial-scale=1'>"
         f"<title>ringwatch weekly review: {html.escape(window_text(review))}</title><style>{STYLE}</style>"
         "</head><body><main>"),
        "<section id='summary'><h1>Weekly risk review</h1>",
        f"<p class='window' id='window'>{html.escape(window_text(review))}</p>",
        f"<p id='summary-text'>{html.escape(summary_text(review))}</p>",
        f"<div class='cards' id='counts'>{cards}</div>",
        f"<p class='note' id='scope'>{html.escape(scope_text(review))}</p></section>",
    ]
    if review.queue:
        parts.append(section("review queue", review.notes.get("review queue"), queue_health_html(review.queue)))
    if not review.activity:
        parts.append(section("no activity", None, f"<p id='no-activity'>{html.escape(NO_ACTIVITY)}</p>"))
    else:
        figures = review_figures(review)
        chart_html = review_charts.figure_fragments(figures)
        for title, fragment in zip(figures, chart_html):
            parts.append(section(title, review.notes.get(title), f"<div class='chart'>{fragment}</div>"))
        for title, frame in review.tables.items():
            rows = 0 if frame is None else len(frame)
            parts.append(section(title, review.notes.get(title), table_html(frame, base_url), rows))
    parts.append("</main></body></html>")
    return "\n".join(parts)
