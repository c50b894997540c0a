"""Ban list: choose rings and/or a score threshold, preview the blast radius, download the CSV."""

import streamlit as st

from ringwatch.dashboard import data

key = data.store_key()
st.title("Ban list")
rings = data.ring_list(key, False)
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

st.download_button("Download ban list (CSV)", data.bans_csv(key, *selection), file_name="bans.csv",
                   mime="text/csv", key="bans_csv", type="primary", disabled=preview["accounts"] == 0)
bans = data.ban_list(key, *selection)
st.caption("Same rows and bytes as `ringwatch export bans` for this selection; cells a spreadsheet would run "
           "as a formula are prefixed with '.")
st.dataframe(bans, width="stretch", hide_index=True)
