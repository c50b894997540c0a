"""The dashboard's writes: decisions, ban batches, approvals, exports, unbans and the review queue.

Every action goes through the same functions as the command line (``graph.decisions``,
``graph.batches``), so it lands in the same ledgers and the same hash-chained audit log.
Each one first asks the session's ``Identity`` for an analyst and is refused without one.
A write changes the store's casework version (and, for a false positive applied at once,
its results version), so the next run of any page, for any analyst, reads what changed and
keeps the rest of its caches (``data.StoreKey``). The writer's own next run reads the
versions from the store at once, even where no store file shows the change (a server).

Downloads are exports too: ``*_download`` return the callable a download button runs when
clicked, which records the export in the audit log and then hands over the bytes, so
nothing leaves the store without an audit entry.
"""

from __future__ import annotations

import logging

import streamlit as st
from ringwatch.graph.casework import batches, decisions, queue
from ringwatch.graph.casework.exports import (
    audited_csv,
    ban_selection,
    bans_table,
    record_export,
)
from ringwatch.graph.engines import EngineError, open_engine
from ringwatch.graph.reports import audit_view, review, review_page, views

from . import data
from .identity import Identity
from .plain import plain

log = logging.getLogger(__name__)


def _write(key, func, *args, **kwargs):
    with open_engine(key[0], key[1]) as engine:
        result = func(engine, *args, **kwargs)
    data.forget_versions()
    return result


def decide(key, who: Identity, target: str, verdict: str, note: str, lift_bans: bool = False) -> dict:
    """Record a decision on a ring or account id (a false positive may also lift the bans in force)."""
    analyst = who.require("a decision")
    row = _write(key, decisions.decide, target, verdict, analyst, note, lift_bans=lift_bans)
    log.info("%s marked %s %s (audit entry %s)", analyst, target, verdict, row["audit_seq"])
    return row


def propose(key, who: Identity, rings: tuple[str, ...], min_score: float | None) -> dict:
    """Freeze a ban-list selection as a batch (four-eyes above the store's size); accounts banned already left out."""
    analyst = who.require("a ban proposal")
    return _write(key, batches.propose, analyst, rings, min_score, None)


def approve(key, who: Identity, batch_id: str) -> dict:
    """Approve another analyst's batch."""
    return _write(key, batches.approve, batch_id, who.require("an approval"))


def unban(key, who: Identity, account_ids: list[str], note: str, batch_id: str | None) -> list[dict]:
    """Lift bans (appended to the history)."""
    return _write(key, batches.unban, account_ids, who.require("an unban"), note, batch_id)


def take_ring(key, who: Identity, ring_id: str) -> dict:
    """Take a ring from the review queue."""
    return _write(key, queue.take, ring_id, who.require("a ring"))


def release_ring(key, who: Identity, ring_id: str) -> dict:
    """Give back a ring you hold."""
    return _write(key, queue.release, ring_id, who.require("a queue action"))


def assign_ring(key, who: Identity, ring_id: str, to: str, note: str) -> dict:
    """Give a ring to an analyst (a note is needed to take it from someone else)."""
    return _write(key, queue.assign, ring_id, to, who.require("a queue action"), note)


def comment_ring(key, who: Identity, ring_id: str, text: str) -> dict:
    """Add a comment to a ring's case."""
    return _write(key, queue.comment, ring_id, who.require("a queue action"), text)


def _table_download(key, who: Identity, build, what: str, selection: dict):
    """A download callable for a table ``build(engine)``: records the export, then returns the CSV bytes."""
    analyst = who.require("an export")

    def produce() -> bytes:
        with open_engine(key[0], key[1]) as engine:
            return audited_csv(engine, analyst, build(engine), what, selection, "dashboard download")[0]

    return produce


def review_download(key, who: Identity, since: str | None, until: str | None = None):
    """A download callable for the weekly review report: records the export, then returns the HTML bytes."""
    analyst = who.require("a download")

    def produce() -> bytes:
        with open_engine(key[0], key[1]) as engine:
            rev = review.build_review(engine, since, until)
            content = review_page.render_html(rev).encode("utf-8")
            rows = sum(0 if frame is None else len(frame) for frame in rev.tables.values())
            record_export(engine, analyst, content, rows, "dashboard download",
                          selection={"since": str(rev.since), "until": str(rev.end)}, what="review")
        return content

    return produce


def ban_list_download(key, who: Identity, rings: tuple[str, ...], min_score: float | None):
    """A download callable for an ad-hoc ban list (exactly `ringwatch export bans` for the selection)."""
    return _table_download(key, who, lambda engine: bans_table(engine, list(rings) or None, min_score), "bans",
                           ban_selection(rings, min_score))


def members_download(key, who: Identity, ring_id: str):
    """A download callable for a ring's members."""
    return _table_download(key, who, lambda engine: views.ring_members(engine, ring_id), "members", {"ring": ring_id})


def audit_download(key, who: Identity, filters: dict):
    """A download callable for the audit log's filtered view (``audit_view.filtered_audit``), recorded like any export."""
    return _table_download(key, who, lambda engine: audit_view.filtered_audit(engine, **filters), "audit",
                           audit_view.audit_selection(**filters))


def batch_download(key, who: Identity, batch_id: str):
    """A download callable for an approved batch: records the export, then returns its frozen CSV bytes."""
    analyst = who.require("an export")

    def produce() -> bytes:
        with open_engine(key[0], key[1]) as engine:
            content, rows = batches.approved_csv(engine, batch_id)
            record_export(engine, analyst, content, rows, "dashboard download", batch_id=batch_id)
        return content

    return produce


def attempt(func, *args, **kwargs):
    """Run an action; a refused or invalid one shows its reason on the page and returns None."""
    try:
        return func(*args, **kwargs)
    except (PermissionError, ValueError, EngineError) as exc:
        log.warning("action %s refused: %s", func.__name__, exc)
        st.error(plain(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__)
        return None


FLASH_KEY = "_action_message"


def flash(message: str) -> None:
    """Keep a success message for the next run and rerun, so the whole page shows the new state."""
    st.session_state[FLASH_KEY] = message
    st.rerun()


def show_flash() -> None:
    """Show (once) the message an action left."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(plain(message))
