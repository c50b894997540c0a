"""Weekly review: the same counts, charts and tables as `ringwatch review`, and the report to download."""

import datetime as dt

import streamlit as st
from ringwatch.dashboard import actions, data, identity
from ringwatch.dashboard.plain import plain
from ringwatch.graph.reports.review import (
    NO_ACTIVITY,
    queue_health_lines,
    review_figures,
)

key = data.store_key()
st.title("Weekly review")
latest = data.weekly_review(key, None)
default = latest.since.date() if latest.since is not None else dt.date.today()
since = st.date_input("Window starts", value=default, key="review_since")
rev = latest if since == default else data.weekly_review(key, since.isoformat())
until = "no usage" if rev.until is None else rev.until.strftime("%Y-%m-%d %H:%M")
st.caption(f"Data window: {rev.since:%Y-%m-%d %H:%M} to {until} (UTC)")

cols = st.columns(len(rev.counts))
for col, (label, value) in zip(cols, rev.counts.items()):
    col.metric(label.capitalize(), f"{value:,}")
who = identity.current()
refusal = who.refusal("a download")
st.download_button("Download the HTML report",
                   actions.review_download(key, who, None if since == default else since.isoformat())
                   if not refusal else b"",
                   file_name="ringwatch-review.html", mime="text/html", key="review_download", on_click="ignore",
                   disabled=bool(refusal), help=refusal or "Recorded in the audit log with its content hash.")
if refusal:
    st.caption(refusal)

if not rev.activity:
    st.info(NO_ACTIVITY)
else:
    for i, fig in enumerate(review_figures(rev).values()):
        st.plotly_chart(fig, width="stretch", key=f"review_chart_{i}")
    for title, frame in rev.tables.items():
        rows = 0 if frame is None else len(frame)
        st.subheader(f"{title.capitalize()} ({rows} rows)")
        if rows:
            st.dataframe(frame, width="stretch", hide_index=True)
        else:
            st.caption("none")

st.subheader("Review queue")
st.caption("Open, in review and overdue count the queue now; decisions count those recorded inside the window.")
for line in queue_health_lines(rev.queue):
    st.markdown(f"- {plain(line)}")
st.page_link("app_pages/queue.py", label="Open the review queue", icon=":material/assignment_ind:")
