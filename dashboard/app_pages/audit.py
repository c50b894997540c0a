"""Audit log: every recorded action, newest first, filtered by analyst, action, ring, account and dates, with the
hash chain checked; the filtered view downloads as formula-safe CSV, recorded in the log itself."""

import streamlit as st
from ringwatch.dashboard import actions, data, identity
from ringwatch.graph.reports.audit_view import filter_audit

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

view = data.audit_view(key)
left, right = st.columns(2)
who_filter = left.multiselect("Analyst", sorted(view["analyst"].unique()), key="audit_analysts")
what = right.multiselect("Action", sorted(view["action"].unique()), key="audit_actions")
cols = st.columns(4)
ring = cols[0].text_input("Ring id", key="audit_ring", placeholder="R-…",
                          help="Entries that touched this ring: decisions on it, batches and exports of it.")
account = cols[1].text_input("Account id", key="audit_account",
                             help="Entries that touched this account: decisions covering it, the batch that banned "
                                  "it and its approval, an unban.")
start = cols[2].date_input("From", value=None, key="audit_from", help="First day (UTC), included.")
end = cols[3].date_input("To", value=None, key="audit_to", help="Last day (UTC), included.")
filters = {"analysts": tuple(who_filter), "actions": tuple(what), "ring": ring, "account": account,
           "start": start, "end": end}
shown = filter_audit(view, **filters)
st.caption(f"{len(shown):,} of {len(view):,} entries match. Each entry's hash covers its content and the previous "
           "entry's hash, so an edit or deletion breaks the chain from there on.")
# Up to 15 rows in view, and no empty rows below a short result.
st.dataframe(shown, width="stretch", hide_index=True, height=min(560, 38 + 35 * max(len(shown), 1)),
             column_config={"hash": st.column_config.TextColumn("hash", width="small")})

who = identity.current()
refusal = who.refusal("an export")
st.download_button("Download these entries (CSV)",
                   actions.audit_download(key, who, filters) if not refusal else b"",
                   file_name="ringwatch-audit.csv", mime="text/csv", key="audit_csv", on_click="ignore",
                   disabled=bool(refusal) or shown.empty,
                   help=refusal or "The filtered view as CSV safe to open in a spreadsheet; the download is itself "
                                   "recorded in the audit log with its filters and content hash.")
if refusal:
    st.caption(refusal)
