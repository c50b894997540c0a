"""Rings: filterable table, then one ring's network, timeline, evidence and members."""

import streamlit as st
from ringwatch.dashboard import (
    actions,
    casework,
    charts,
    data,
    identity,
    links,
    queue_panel,
    tables,
)
from ringwatch.dashboard.network_charts import network_figure
from ringwatch.dashboard.network_panel import ring_clicks
from ringwatch.dashboard.plain import plain
from ringwatch.graph.casework.vocabulary import STATUS_LABELS, VERDICT_LABELS, VERDICTS
from ringwatch.graph.reports.case_views import RING_COUNT_LABELS, count_phrase
from ringwatch.graph.reports.network import DISCOUNTED_WORDS

key = data.store_key()
who = identity.current()
st.title("Rings")

with st.sidebar:
    st.header("Filter rings")
    include_benign = st.checkbox("Include benign linked groups", value=False, key="include_benign")
    rings = data.ring_list(key, include_benign)
    decided = st.selectbox("Decision", ["any", "undecided", *VERDICTS], key="decided",
                           format_func=lambda v: VERDICT_LABELS.get(v, v))
    min_score = st.slider("Minimum risk score", 0.0, 1.0, 0.0, 0.05, key="min_score")
    max_size = int(rings["size"].max()) if len(rings) else 1
    min_size = st.number_input("Minimum size", 1, max(max_size, 1), 1, key="min_size")
    kinds = sorted({k for ks in rings["evidence_kinds"].fillna("") for k in ks.split(", ") if k})
    wanted = st.multiselect("Evidence kinds (all of)", kinds, key="kinds")

shown = rings[(rings["risk_score"] >= min_score) & (rings["size"] >= min_size)]
if decided == "undecided":
    shown = shown[shown["verdict"] == ""]
elif decided != "any":
    shown = shown[shown["verdict"] == decided]
for kind in wanted:
    shown = shown[shown["evidence_kinds"].fillna("").str.split(", ").map(lambda ks, k=kind: k in ks)]
shown = shown.reset_index(drop=True)
counted = ", ".join(count_phrase(int((rings["status"] == status).sum()), label)
                    for status, label in RING_COUNT_LABELS.items() if status != "benign" or include_benign)
st.caption(f"{len(shown):,} of {len(rings):,} groups match ({counted}). Click a column header to sort, a row to "
           "open it.")
table = st.dataframe(
    shown.drop(columns=["cluster_id", "flagged", "verdict"]).assign(status=shown["status"].map(STATUS_LABELS)),
    width="stretch", hide_index=True, height=tables.height(), key="ring_table",
    on_select="rerun", selection_mode="single-row",
    column_config={"risk_score": st.column_config.ProgressColumn("risk score", min_value=0, max_value=1,
                                                                 format="%.3f")},
)
if shown.empty:
    st.info("No ring matches these filters.")
    st.stop()

tables.follow_row_pick(table, shown["ring_id"].tolist(), "ring")
shown = links.ring_rows(shown, lambda: data.ring_list(key, True))
options = shown["ring_id"].tolist()
if st.session_state.get("ring") not in options:
    st.session_state["ring"] = options[0]
sizes = shown.set_index("ring_id")["size"].to_dict()
scores = shown.set_index("ring_id")["risk_score"].to_dict()
ring_id = st.selectbox("Ring", options, key="ring",
                       format_func=lambda r: f"{r} · {sizes[r]} accounts · risk {scores[r]:.2f}")
links.keep_in_url("ring", ring_id)
links.share("ring", tables.ring_url(ring_id))

detail = data.ring_detail(key, ring_id)
summary = detail["summary"]
members = data.ring_members(key, ring_id)
cols = st.columns(5)
cols[0].metric("Risk score", f"{summary['risk_score']:.3f}")
cols[1].metric("Accounts", f"{summary['size']:,}")
status = rings.set_index("ring_id")["status"].get(ring_id, "benign")
cols[2].metric("Status", STATUS_LABELS[status].split(" (")[0], help=STATUS_LABELS[status])
cols[3].metric("Requests", f"{int(summary['requests']):,}")
cols[4].metric("Output tokens", f"{int(summary['output_tokens']):,}")
st.caption(f"First seen {plain(summary['first_seen'])} · last seen {plain(summary['last_seen'])} · "
           f"evidence kinds: {plain(summary['evidence_kinds'] or 'none')}")
queue_panel.ring_header(key, who, ring_id)
if status == "held_back":
    st.info("Held back by a false-positive decision: its accounts are not flagged, and stay off ban lists, "
            "until new evidence appears. See the Decision tab.")
again = members["reasons"].fillna("").str.startswith("flagged again after being marked false positive")
if again.any():
    st.warning(f"{int(again.sum()):,} members were marked false positive before and are flagged again on new "
               "evidence; their reasons say what changed.")

# Lazy tabs: only the open tab runs, so a 2,000-account ring sends one heavy chart, not four.
network, timeline, evidence, member_tab, history, decision = st.tabs(
    ["Network", "Timeline", "Evidence", "Members", "History", "Decision"], key="ring_view", on_change="rerun")
if network.open:
    with network:
        show_discounted = st.toggle(f"Show discounted values ({DISCOUNTED_WORDS})", key="net_discounted")
        view = data.ring_graph(key, ring_id, show_discounted)
        for notice in view.notices:
            st.info(plain(notice))
        title = (f"Ring {ring_id}: identifier values its members share" if view.summarised
                 else f"Ring {ring_id}: accounts and the identifiers they share")
        clicked = st.plotly_chart(network_figure(view, title), width="stretch", key="ring_network",
                                  on_select="rerun", selection_mode="points")
        ring_clicks(view, clicked, "ring_network")
if timeline.open:
    with timeline:
        st.plotly_chart(charts.signup_burst(members), width="stretch", key="signup_burst")
        heat, heat_notice = charts.activity_heatmap(data.activity(key, tuple(members["account_id"]), 60))
        if heat_notice:
            st.warning(heat_notice)
        st.plotly_chart(heat, width="stretch", key="activity_heatmap")
if evidence.open:
    with evidence:
        st.subheader("Why this group scored as it did")
        st.dataframe(detail["explanation"], width="stretch", hide_index=True)
        st.plotly_chart(charts.breakdown_chart(detail["breakdown"]), width="stretch", key="breakdown")
        st.subheader("Shared identifiers, rarest first")
        st.dataframe(detail["evidence"], width="stretch", hide_index=True)
if member_tab.open:
    with member_tab:
        st.subheader("Members and why each is in")
        st.caption(tables.OWN_HELP)
        tables.show(tables.with_links(data.member_table(key, ring_id)), "members", tables.OWN_CONFIG)
        refusal = who.refusal("an export")
        st.download_button("Download members (CSV)",
                           actions.members_download(key, who, ring_id) if who.can_act else b"",
                           file_name=f"{ring_id}-members.csv", mime="text/csv", key="members_csv",
                           on_click="ignore", disabled=not who.can_act,
                           help=refusal or "Recorded in the audit log with its content hash.")
if history.open:
    with history:
        events = data.ring_history(key, ring_id)
        if events.empty:
            st.caption("No lineage recorded for this ring yet.")
        else:
            kept = events[events["ring_id"] == ring_id]
            seen = kept["data_until"].fillna(kept["run_at"])
            st.caption(f"Ring id {ring_id} kept through {len(kept):,} detection run(s), on data up to "
                       f"{seen.min():%Y-%m-%d} … {seen.max():%Y-%m-%d}. Events naming it elsewhere (a split or "
                       "merge) list it under related_ids.")
            st.plotly_chart(charts.ring_size_history(kept), width="stretch", key="ring_history")
            st.dataframe(events.iloc[::-1], width="stretch", hide_index=True)
if decision.open:
    with decision:
        casework.decision_panel(key, who, ring_id, "ring")
