"""Review queue: rings awaiting a decision by risk and age, who holds each, and take / release / reassign / comment."""

import streamlit as st
from ringwatch.dashboard import actions, data, identity, queue_panel, tables
from ringwatch.dashboard.plain import plain
from ringwatch.graph.casework.analysts import same_analyst
from ringwatch.graph.casework.queue import STATUS_LABELS, STATUSES

key = data.store_key()
who = identity.current()
st.title("Review queue")
actions.show_flash()
table, health = data.review_queue(key)

cols = st.columns(5)
cols[0].metric("Open", f"{health['open']:,}", help="Flagged rings without a final decision.")
cols[1].metric("New", f"{health['new']:,}", help="Open and nobody holds them.")
cols[2].metric("In review", f"{health['in review']:,}", help="Open and held by an analyst.")
limit = health["overdue after days"]
cols[3].metric("Overdue", f"{health['overdue']:,}",
               help=f"Open longer than {limit} days since first flagged." if limit is not None else "Policy off.")
median = health["median days to decision"]
cols[4].metric("Median days to decision", "none yet" if median is None else f"{median:.1f}",
               help=f"From first flagged to the decision, over the {health['decided']:,} rings decided.")
st.caption(("Overdue: open longer than " + f"{limit} days since first flagged" if limit is not None
            else "Overdue marking is off") + " (store policy; `ringwatch policy set overdue-days N --note WHY`).")

left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
statuses = left.multiselect("Status", list(STATUSES), default=["new", "in_review"], key="queue_status",
                            format_func=STATUS_LABELS.get)
mine = middle.toggle("My rings", key="queue_mine", disabled=not who.can_act,
                     help="Only the rings you hold." if who.can_act else
                     "Enter your name in the sidebar (or sign in) to see the rings you hold.")
late_only = right.toggle("Overdue only", key="queue_overdue")

shown = table[table["status"].isin(statuses)] if statuses else table
if mine and who.can_act:
    shown = shown[[bool(o) and same_analyst(who.analyst, o) for o in shown["owner"]]]
if late_only:
    shown = shown[shown["overdue"].astype(bool)]
shown = shown.reset_index(drop=True)
st.caption(f"{len(shown):,} of {len(table):,} rings in the queue match; open rings first, then by risk and age. "
           + ("Overdue rows are highlighted. " if queue_panel.highlighted(len(shown)) else
              f"Overdue rings are ticked in the overdue column (rows are highlighted in tables of up to "
              f"{queue_panel.HIGHLIGHTED_ROWS:,}; narrow the filters, or turn on Overdue only). ")
           + "Click a row to work on it.")
picked_rows = st.dataframe(queue_panel.styled_table(shown), width="stretch", hide_index=True, height=tables.height(),
                           column_config=queue_panel.COLUMN_FORMATS, key="queue_table", on_select="rerun",
                           selection_mode="single-row")
if shown.empty:
    st.info("No ring matches these filters." if len(table) else "The queue is empty: no flagged rings.")
    st.stop()

options = shown["ring_id"].tolist()
tables.follow_row_pick(picked_rows, options, "queue_ring")
if st.session_state.get("queue_ring") not in options:
    st.session_state["queue_ring"] = options[0]
labels = {r: f"{r} · {n} accounts · risk {v:.3f} · {STATUS_LABELS[s]}"
          for r, n, v, s in zip(options, shown["size"], shown["risk_score"], shown["status"])}
ring_id = st.selectbox("Ring", options, key="queue_ring", format_func=labels.__getitem__)
row = shown[shown["ring_id"] == ring_id].iloc[0].to_dict()

head, buttons = st.columns([5, 1], vertical_alignment="center")
head.markdown(queue_panel.status_line(row))
with buttons:
    queue_panel.take_release(key, who, row, "queue")
st.page_link("app_pages/rings.py", label=f"Open {ring_id} on the Rings page (evidence, members, decision)",
             icon=":material/hub:", query_params={"ring": ring_id})
if not who.can_act:
    st.caption(who.refusal("a queue action"))

reassign, note = st.columns(2)
with reassign:
    queue_panel.reassign_form(key, who, row)
with note:
    queue_panel.comment_form(key, who, ring_id)

st.subheader("Case history")
history = data.queue_events(key, ring_id)
if history.empty:
    st.caption("Nobody has taken or commented on this ring yet.")
else:
    st.caption(f"{len(history):,} {'entry' if len(history) == 1 else 'entries'}, newest first; each one is in the "
               "audit log.")
    st.dataframe(history.drop(columns=["ring_id"]), width="stretch", hide_index=True)
st.caption(f"Ring id {plain(ring_id)} keeps its owner and comments through later detection runs, as decisions do.")
