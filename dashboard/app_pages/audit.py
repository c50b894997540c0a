"""Audit log: every decision, batch, approval, export and unban, newest first, with the hash chain checked."""

import streamlit as st
from ringwatch.dashboard import data

key = data.store_key()
st.title("Audit log")
entries, status = data.audit_log(key)
if status["ok"]:
    st.success(f"{status['message'].capitalize()}.")
else:
    st.error(f"{status['message'].capitalize()}. Entries from {status['first_bad']} on cannot be trusted; "
             "`ringwatch audit verify` says the same.")
if entries.empty:
    st.info("Nothing recorded yet: decisions, ban batches, approvals, exports and unbans appear here.")
    st.stop()

left, right = st.columns(2)
who = left.multiselect("Analyst", sorted(entries["analyst"].unique()), key="audit_analysts")
what = right.multiselect("Action", sorted(entries["action"].unique()), key="audit_actions")
shown = entries
if who:
    shown = shown[shown["analyst"].isin(who)]
if what:
    shown = shown[shown["action"].isin(what)]
st.caption(f"{len(shown):,} of {len(entries):,} entries. Each entry's hash covers its content and the previous "
           "entry's hash, so an edit or deletion breaks the chain from there on.")
st.dataframe(shown, width="stretch", hide_index=True)
