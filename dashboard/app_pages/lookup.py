"""Account lookup: search by id, email, phone, IP, device or payment id; ring, identifiers, neighbourhood."""

import pandas as pd
import streamlit as st
from ringwatch.dashboard import actions, casework, data, identity, links, tables
from ringwatch.dashboard.network_charts import network_figure
from ringwatch.dashboard.network_panel import expanded, neighbourhood_clicks
from ringwatch.dashboard.plain import plain
from ringwatch.dashboard.timeline_panel import timeline_panel
from ringwatch.graph.reports.views import SEARCH_FIELDS

key = data.store_key()
who = identity.current()
st.title("Account lookup")
links.linked_account()
left, mid, right = st.columns([4, 2, 1])
query = left.text_input("Search", key="query", placeholder="account id, email, phone, IP, device or payment id")
field = mid.selectbox("Search in", list(SEARCH_FIELDS), key="field")
hops = right.radio("Hops", [1, 2], horizontal=True, key="hops")
if not query.strip():
    links.drop_from_url(links.ACCOUNT_PARAM)
    st.info("Type an account id, email address, phone number, IP, device or payment id. "
            "Emails and phones are normalised like ingested data (John.Doe+x@GMail.com finds johndoe@gmail.com).")
    st.stop()

matches, capped = data.search_accounts(key, query, field)
if matches.empty:
    st.warning("No account matches this search.")
    st.stop()
st.caption(f"{len(matches):,} matching account(s)" + (" (only the first are shown)" if capped else ""))
st.dataframe(matches, width="stretch", hide_index=True, height=min(36 * (len(matches) + 1) + 2, 250))
account_id = st.selectbox("Account", matches["account_id"].drop_duplicates().tolist(), key="account")
links.keep_in_url(links.ACCOUNT_PARAM, account_id)
links.share("account", tables.account_url(account_id))

profile = data.account_profile(key, account_id)
result = profile["result"]
ring = result.get("ring_id")
banned = data.banned_now(key).set_index("account_id")
cols = st.columns(5)
cols[0].metric("Risk score", f"{float(result.get('risk_score', 0.0)):.3f}")
cols[1].metric("Flagged", "yes" if result.get("flagged") else "no")
cols[2].metric("Ring", ring if isinstance(ring, str) else "none")
cols[3].metric("Requests", f"{int(profile['usage'].get('requests', 0) or 0):,}")
cols[4].metric("Banned", "yes" if account_id in banned.index else "no",
               help=f"by batch {banned.at[account_id, 'batch_id']} since {banned.at[account_id, 'since']}"
               if account_id in banned.index else None)
if isinstance(ring, str):
    st.page_link("app_pages/rings.py", label=f"Open ring {plain(ring)}", icon=":material/hub:",
                 query_params={"ring": ring})
st.subheader("Why")
st.text(result.get("reasons") or "Not in any linked group.")
info, ids = st.columns(2)
# st.json and st.dataframe show values as plain text; st.table would read markdown in cells.
with info:
    st.subheader("Signup")
    st.json({k: (None if pd.isna(v) else str(v)) for k, v in profile["signup"].items()}, expanded=True)
with ids:
    st.subheader("Identifiers")
    st.dataframe(profile["identifiers"][["kind", "value"]], width="stretch", hide_index=True)

timeline_panel(key, account_id, ring)

with st.expander("Decision and ban history", expanded=actions.FLASH_KEY in st.session_state):
    casework.decision_panel(key, who, account_id, "account", (ring,) if isinstance(ring, str) else ())
    bans = data.ban_history(key, (account_id,))
    if len(bans):
        st.subheader("Bans and unbans")
        st.dataframe(bans, width="stretch", hide_index=True)

st.subheader(f"Neighbourhood, {hops} hop(s) out")
st.caption("Followed only through values that carry evidence: held by two accounts or more and not discounted "
           "by the detector. Colour: ring; filled circle: flagged; diamonds: identifier values.")
view = data.neighbourhood_graph(key, account_id, int(hops), expanded(account_id))
for notice in view.notices:
    st.info(plain(notice))
if not (view.nodes["type"] == "value").any():
    st.info("This account shares no identifier value that carries evidence with another account.")
else:
    clicked = st.plotly_chart(network_figure(view, f"Accounts linked to {account_id}", highlight=account_id,
                                             colour_by_ring=True),
                              width="stretch", key="neighbourhood", on_select="rerun", selection_mode="points")
    neighbourhood_clicks(view, clicked, account_id, "neighbourhood")
