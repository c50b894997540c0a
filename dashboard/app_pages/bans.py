"""Ban list: choose rings and/or a score threshold, preview the blast radius, export it or propose it as a batch."""

import streamlit as st
from ringwatch.dashboard import actions, data, identity, tables

key = data.store_key()
who = identity.current()
st.title("Ban list")
actions.show_flash()
rings = data.ring_list(key, False)
rings = rings[rings["status"] == "flagged"]
labels = {r: f"{r} · {s} accounts · risk {v:.2f}" for r, s, v in zip(rings["ring_id"], rings["size"],
                                                                        rings["risk_score"])}
chosen = st.multiselect("Rings (none chosen = every ring)", list(labels), format_func=labels.get, key="ban_rings")
min_score = st.slider("Minimum account risk score", 0.0, 1.0, 0.0, 0.01, key="ban_min_score",
                      help="Only flagged accounts are ever banned; this narrows the list further.")
selection = (tuple(chosen), min_score if min_score > 0 else None)

preview = data.ban_preview(key, *selection)
st.subheader("Blast radius")
cols = st.columns(5)
cols[0].metric("Accounts banned", f"{preview['accounts']:,}")
cols[1].metric("Rings", f"{preview['rings']:,}")
cols[2].metric("Weak evidence", f"{preview['weak_evidence']:,}",
               help="Accounts sharing fewer than two identifier values with their ring")
cols[3].metric("Share of requests", f"{preview['requests_share']:.1%}", help=f"{preview['requests']:,} requests")
cols[4].metric("Share of output tokens", f"{preview['output_tokens_share']:.1%}",
               help=f"{preview['output_tokens']:,} output tokens")
if preview["weak_evidence"]:
    with st.expander(f"{preview['weak_evidence']:,} accounts with weak evidence: review before banning"):
        st.dataframe(preview["weak_accounts"], width="stretch", hide_index=True)

threshold = data.store_policy(key)["approval_above"]
empty = preview["accounts"] == 0
refusal = who.refusal("an export or a ban proposal")
left, right = st.columns(2)
with left:
    propose = st.button("Propose as a ban batch", key="propose_batch", type="primary", disabled=empty or not who.can_act,
                        help=refusal or "Freezes this list with its content hash. "
                        + ("Four-eyes is off in this store." if threshold is None else
                           f"Batches of more than {threshold} accounts need approval by a second analyst (four-eyes)."))
with right:
    st.download_button("Download ban list (CSV)",
                       actions.ban_list_download(key, who, *selection) if who.can_act else b"",
                       file_name="bans.csv", mime="text/csv", key="bans_csv", disabled=empty or not who.can_act,
                       on_click="ignore", help=refusal or "Recorded in the audit log with its content hash.")
if refusal:
    st.caption(refusal)
if propose:
    row = actions.attempt(actions.propose, key, who, *selection)
    if row:
        state = (f"waiting for approval by an analyst other than {row['proposer']}" if row["needs_approval"]
                 else "approved (at or under the four-eyes size)")
        actions.flash(f"Batch {row['batch_id']} proposed: {row['size']:,} accounts, sha256 "
                      f"{row['content_hash'][:16]}…, {state}. Open Ban batches to approve or export it.")

st.subheader("Accounts on this list")
st.caption("Same accounts, scores and reasons as `ringwatch export bans` for this selection (the download is its "
           "exact bytes: cells a spreadsheet would run as a formula are prefixed with '). " + tables.OWN_HELP)
tables.show(tables.with_links(data.ban_table(key, *selection)), "bans", tables.OWN_CONFIG)
