"""Page piece for Account lookup: one account's usage over time, and the same measures beside its ring's members."""

from __future__ import annotations

import streamlit as st

from . import data, timeline_charts
from .plain import plain

BUCKETS = {"day": 24 * 60, "hour": 60}
MEASURES = {"requests": "requests", "output tokens": "output_tokens"}


def timeline_panel(key, account_id: str, ring_id: str | None) -> None:
    """Requests, output tokens, models, templates and request IPs per bucket; then a comparison with ring members."""
    st.subheader("Usage over time")
    bucket = st.radio("Bucket", list(BUCKETS), horizontal=True, key="timeline_bucket")
    timeline = data.account_timeline(key, account_id, BUCKETS[bucket])
    if timeline["totals"].empty:
        st.info("No usage recorded for this account.")
        return
    if not timeline["detailed"]:
        st.caption("This store's engine answers usage sums only: requests, tokens and templates are shown, "
                   "request IPs and models per request are not.")
    by = timeline["by"]
    many = {m: by.loc[by["measure"] == m, "value"].nunique() for m in timeline_charts.MEASURES}
    cut = [f"{m}s ({n:,} values)" for m, n in many.items() if n > timeline_charts.TOP_VALUES]
    if cut:
        st.caption(f"The {timeline_charts.TOP_VALUES} busiest values of each measure get a row; the rest are summed "
                   f"as \"other\" for {', '.join(cut)}.")
    st.plotly_chart(timeline_charts.account_timeline_figure(timeline["totals"], by, account_id, bucket),
                    width="stretch", key="account_timeline")
    if not isinstance(ring_id, str):
        st.caption("Not in a ring: nothing to compare with.")
        return
    members = data.ring_members(key, ring_id)["account_id"].tolist()
    others = [m for m in members if m != account_id]
    left, right = st.columns([3, 1])
    chosen = left.multiselect(f"Ring {plain(ring_id)} members to draw beside it (the ring's median is always drawn)",
                              others, key="compare_members", max_selections=20)
    measure = right.radio("Measure", list(MEASURES), horizontal=True, key="compare_measure")
    usage = data.member_comparison(key, tuple(members), BUCKETS[bucket])
    st.plotly_chart(timeline_charts.comparison_figure(usage, account_id, chosen, MEASURES[measure], bucket),
                    width="stretch", key="member_comparison")
