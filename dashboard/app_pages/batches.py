"""Ban batches: approve (four-eyes), export byte for byte, unban; with the ban history."""

import streamlit as st
from ringwatch.dashboard import actions, data, identity
from ringwatch.dashboard.plain import plain
from ringwatch.graph.casework.analysts import same_analyst

key = data.store_key()
who = identity.current()
st.title("Ban batches")
actions.show_flash()
table = data.batch_list(key)
if table.empty:
    st.info("No ban batch yet. Build a ban list on the Ban list page and propose it.")
    st.stop()

st.dataframe(table.drop(columns=["content_hash"]), width="stretch", hide_index=True,
             height=min(36 * (len(table) + 1) + 2, 260))
labels = {b: f"{b} · {n:,} accounts · proposed by {p} on {str(at)[:10]}" for b, n, p, at in
          zip(table["batch_id"], table["size"], table["proposer"], table["at"])}
batch_id = st.selectbox("Batch", list(labels), format_func=labels.get, key="batch")
row = table.set_index("batch_id").loc[batch_id]
st.caption(f"sha256 {row['content_hash']} · proposed {plain(row['at'])} by {plain(row['proposer'])}" +
           (f" · approved by {plain(row['approver'])} at {plain(row['approved_at'])}"
            if isinstance(row["approver"], str) else ""))

left, right = st.columns(2)
with left:
    pending = row["status"] != "approved"
    own = who.can_act and same_analyst(who.analyst, row["proposer"])
    why = (who.refusal("an approval") or
           (f"Four-eyes: {plain(who.analyst)} proposed this batch; another analyst must approve it." if own else ""))
    if pending:
        if st.button("Approve batch", key="approve_batch", type="primary", disabled=bool(why), help=why or None):
            done = actions.attempt(actions.approve, key, who, batch_id)
            if done:
                actions.flash(f"Batch {batch_id} approved by {done['approver']}; its accounts are banned.")
        if why:
            st.caption(why)
    else:
        st.success("Approved: these accounts are banned (unless unbanned since).")
with right:
    refusal = who.refusal("an export")
    st.download_button("Download batch (CSV)", actions.batch_download(key, who, batch_id)
                       if who.can_act and not pending else b"", file_name=f"{batch_id}.csv", mime="text/csv",
                       key="batch_csv", on_click="ignore", disabled=pending or not who.can_act,
                       help=refusal or ("Waiting for approval" if pending else
                                        "Byte for byte as proposed (same as `ringwatch batch export`); recorded "
                                        "in the audit log."))

accounts, history, lift = st.tabs(["Accounts", "Ban history", "Unban"])
with accounts:
    st.dataframe(data.batch_rows(key, batch_id), width="stretch", hide_index=True)
with history:
    st.dataframe(data.ban_history(key, None).query("batch_id == @batch_id"), width="stretch", hide_index=True)
with lift:
    banned = data.banned_now(key)
    banned = banned[banned["batch_id"] == batch_id]["account_id"].tolist()
    if not banned:
        st.caption("No account of this batch is banned now.")
    else:
        with st.form("unban", clear_on_submit=True):
            chosen = st.multiselect("Accounts to unban", banned, key="unban_accounts")
            note = st.text_input("Why", key="unban_note", max_chars=500, placeholder="e.g. verified customer")
            refusal = who.refusal("an unban")
            submitted = st.form_submit_button("Unban", disabled=not who.can_act, help=refusal or None)
        if refusal:
            st.caption(refusal)
        if submitted:
            rows = actions.attempt(actions.unban, key, who, chosen, note, batch_id) if chosen else None
            if chosen and rows:
                actions.flash(f"Unbanned {len(rows):,} account(s) by {who.analyst}; the ban stays in the history.")
            elif not chosen:
                st.error("Choose at least one account to unban.")
