"""Page pieces for the review queue: a ring's owner and status with Take / Release, reassign and comment forms,
and the queue table with overdue rows highlighted (up to a size)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from ringwatch.graph.casework.analysts import same_analyst
from ringwatch.graph.casework.queue import STATUS_LABELS

from . import actions, data
from .identity import Identity
from .plain import plain

OVERDUE_STYLE = "background-color: #fde0dc; color: #7a1c12"
TABLE_COLUMNS = {"ring_id": "ring", "risk_score": "risk score", "size": "accounts", "status": "status",
                 "owner": "owner", "age_days": "days", "overdue": "overdue", "first_flagged": "first flagged",
                 "comments": "comments", "last_comment": "last comment"}
# Tables longer than this are not highlighted (``highlighted``).
HIGHLIGHTED_ROWS = 2_000
COLUMN_FORMATS = {"risk score": st.column_config.NumberColumn(format="%.3f"),
                  "days": st.column_config.NumberColumn(format="%.1f"),
                  "first flagged": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")}


def queue_row(key, ring_id: str) -> dict | None:
    """The ring's row of the review queue, or None when it is not in the queue (a benign group)."""
    table, _ = data.review_queue(key)
    found = table[table["ring_id"] == ring_id]
    return None if found.empty else found.iloc[0].to_dict()


def status_line(row: dict) -> str:
    """Status, owner and age in one line of Markdown (stored text escaped)."""
    owner = f"held by **{plain(row['owner'])}**" if row["owner"] else "nobody holds it"
    days = f"{row['age_days']:.1f} days"
    age = f"decided {days} after first flagged" if row["status"] == "decided" else f"waiting {days} since first flagged"
    late = " · :red[**overdue**]" if row["overdue"] else ""
    return f"Queue: **{STATUS_LABELS[row['status']]}** · {owner} · {age}{late}"


def take_release(key, who: Identity, row: dict, prefix: str) -> None:
    """Take (a ring nobody holds) or Release (a ring you hold); otherwise say who holds it."""
    ring_id, owner = row["ring_id"], row["owner"]
    mine = bool(owner) and same_analyst(who.analyst, owner)
    if mine:
        clicked = st.button("Release", key=f"{prefix}_release", help="Give the ring back to the queue (audited).")
        if clicked and actions.attempt(actions.release_ring, key, who, ring_id):
            actions.flash(f"Released {ring_id}.")
        return
    reason = who.refusal("a ring")
    if owner:
        reason = f"Held by {owner}: ask them to release it, or reassign it with a note."
    elif row["status"] == "decided":
        reason = "Decided: nothing left to take."
    clicked = st.button("Take", key=f"{prefix}_take", type="primary", disabled=bool(reason),
                        help=reason or "You own the ring until you release it (audited).")
    if clicked and actions.attempt(actions.take_ring, key, who, ring_id):
        actions.flash(f"You took {ring_id}.")


def ring_header(key, who: Identity, ring_id: str) -> None:
    """The Rings page's queue block: owner, status, age, and Take / Release."""
    row = queue_row(key, ring_id)
    if row is None:
        return
    actions.show_flash()
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.markdown(status_line(row))
    if not who.can_act:
        left.caption(who.refusal("a ring"))
    with right:
        take_release(key, who, row, "ring_header")


def reassign_form(key, who: Identity, row: dict) -> None:
    """Give the ring to another analyst; a note is required when someone else holds it."""
    refusal = who.refusal("a queue action")
    with st.form("queue_reassign", clear_on_submit=True):
        to = st.text_input("Give to (analyst name)", key="queue_assign_to", max_chars=120)
        note = st.text_input("Note", key="queue_assign_note", max_chars=2000,
                             placeholder="Why it moves (required when someone else holds it)")
        sent = st.form_submit_button("Reassign", disabled=bool(refusal) or row["status"] == "decided",
                                     help=refusal or None)
    if sent and actions.attempt(actions.assign_ring, key, who, row["ring_id"], to, note):
        actions.flash(f"{row['ring_id']} now belongs to {' '.join(to.split())}.")


def comment_form(key, who: Identity, ring_id: str) -> None:
    """Add a comment to the ring's case."""
    refusal = who.refusal("a queue action")
    with st.form("queue_comment", clear_on_submit=True):
        text = st.text_area("Comment", key="queue_comment_text", max_chars=2000, height=90,
                            placeholder="What you found, what is left (kept in the audit log)")
        sent = st.form_submit_button("Add comment", disabled=bool(refusal), help=refusal or None)
    if sent and actions.attempt(actions.comment_ring, key, who, ring_id, text):
        actions.flash(f"Comment added to {ring_id}.")


def highlighted(rows: int) -> bool:
    """Whether ``styled_table`` highlights the overdue rows of a table of this many rows."""
    return rows <= HIGHLIGHTED_ROWS


def styled_table(table: pd.DataFrame):
    """The queue as shown: readable headers, status words, and (up to ``HIGHLIGHTED_ROWS`` rows) overdue rows
    highlighted; show it with ``COLUMN_FORMATS``.

    A styled table is sent with a display text for every cell, which costs seconds at ten thousand rings even
    with nothing to highlight; a larger table goes as it is, its overdue rings ticked in their column.
    """
    shown = table.assign(status=table["status"].map(STATUS_LABELS))[list(TABLE_COLUMNS)]
    shown = shown.rename(columns=TABLE_COLUMNS)
    if not highlighted(len(shown)):
        return shown
    late = shown.index[shown["overdue"].to_numpy(dtype=bool)]
    # Styles for the overdue rows alone, in one frame: a function per row, or a style per cell of every row, costs
    # seconds at ten thousand rings.
    styles = pd.DataFrame(OVERDUE_STYLE, index=late, columns=shown.columns)
    return shown.style.apply(lambda _: styles, axis=None, subset=pd.IndexSlice[late, :]).format(
        {"risk score": "{:.3f}", "days": "{:.1f}", "first flagged": lambda t: f"{t:%Y-%m-%d %H:%M}"})
