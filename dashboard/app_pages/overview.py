"""Overview: headline figures, risk distribution, rings by size and score, signups, hubs."""

import streamlit as st
from ringwatch.dashboard import charts, data, links
from ringwatch.dashboard.plain import plain

key = data.store_key()
st.title("ringwatch overview")
figures = data.headline(key)
st.caption(f"Store {plain(key[1])} · last detection run {plain(figures['finished_at'])}")

cols = st.columns(6)
cols[0].metric("Accounts", f"{figures['accounts']:,}")
cols[1].metric("Rings flagged", f"{figures['rings']:,}",
               help="Linked groups scoring at least the ring threshold, less those held back by a false-positive "
                    "decision: the rings the Rings page, the ring export, ban lists and the weekly review count.")
cols[2].metric("Flagged accounts", f"{figures['flagged_accounts']:,}")
cols[3].metric("Linked groups", f"{figures['linked_groups']:,}", help="Rings plus benign linked groups")
cols[4].metric("Requests from flagged", f"{figures['requests_share']:.1%}")
cols[5].metric("Output tokens to flagged", f"{figures['output_tokens_share']:.1%}")

work = data.casework_counts(key)
cols = st.columns(len(work))
for col, (label, value) in zip(cols, work.items()):
    col.metric(label.capitalize(), f"{value:,}")

left, right = st.columns(2)
left.plotly_chart(charts.risk_histogram(data.risk_distribution(key)), width="stretch", key="risk_hist")
clicked = right.plotly_chart(charts.rings_scatter(data.ring_points(key)), width="stretch", key="rings_scatter",
                             on_select="rerun", selection_mode="points")
right.caption("Click a group to open it on the Rings page.")
ring = links.picked_ring(clicked, "rings_scatter")
if ring:
    st.switch_page("app_pages/rings.py", query_params={links.RING_PARAM: ring})
st.plotly_chart(charts.signups_chart(data.signups_over_time(key)), width="stretch", key="signups")

st.subheader("Suppressed hub identifiers")
hubs = data.suppressed_hubs(key)
if hubs.empty:
    st.info("No identifier value is shared widely enough to be a hub in this store.")
else:
    st.plotly_chart(charts.hubs_chart(hubs), width="stretch", key="hubs")
    st.dataframe(hubs, width="stretch", hide_index=True)
