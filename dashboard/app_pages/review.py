"""Weekly review: the same counts, charts and tables as `ringwatch review`, and the report to download."""

import datetime as dt

import streamlit as st
from ringwatch.dashboard import actions, data, identity
from ringwatch.dashboard.plain import plain
from ringwatch.graph.reports.review import NO_ACTIVITY, queue_health_lines
from ringwatch.graph.reports.review_page import (
    review_figures,
    scope_text,
    summary_text,
    window_text,
)

key = data.store_key()
st.title("Weekly review")
latest = data.weekly_review(key, None)
default_since = latest.since.date() if latest.since is not None else dt.date.today()
default_until = (latest.end - dt.timedelta(days=1)).date() if latest.end is not None else default_since
left, right = st.columns(2)
since = left.date_input("Window starts", value=default_since, key="review_since")
until = right.date_input("Window ends (last day)", value=default_until, key="review_until")
chosen = (since, until) != (default_since, default_until)
since_text, until_text = (since.isoformat(), until.isoformat()) if chosen else (None, None)
rev = data.weekly_review(key, since_text, until_text) if chosen else latest
st.caption(plain(window_text(rev)))
st.markdown(plain(summary_text(rev)))

cols = st.columns(len(rev.counts))
for col, (label, value) in zip(cols, rev.counts.items()):
    col.metric(label.capitalize(), f"{value:,}")
st.caption(plain(scope_text(rev)))
who = identity.current()
refusal = who.refusal("a download")
st.download_button("Download the HTML report",
                   actions.review_download(key, who, since_text, until_text) if not refusal else b"",
                   file_name="ringwatch-review.html", mime="text/html", key="review_download", on_click="ignore",
                   disabled=bool(refusal), help=refusal or "Recorded in the audit log with its content hash.")
if refusal:
    st.caption(refusal)

st.subheader("Review queue")
st.caption(plain(rev.notes.get("review queue", "")))
for line in queue_health_lines(rev.queue):
    st.markdown(f"- {plain(line)}")
st.page_link("app_pages/queue.py", label="Open the review queue", icon=":material/assignment_ind:")

if not rev.activity:
    st.info(NO_ACTIVITY)
else:
    for i, (title, fig) in enumerate(review_figures(rev).items()):
        st.plotly_chart(fig, width="stretch", key=f"review_chart_{i}")
        st.caption(plain(rev.notes.get(title, "")))
    for title, frame in rev.tables.items():
        rows = 0 if frame is None else len(frame)
        st.subheader(f"{title.capitalize()} ({rows:,} rows)")
        if rev.notes.get(title):
            st.caption(plain(rev.notes[title]))
        if rows:
            st.dataframe(frame, width="stretch", hide_index=True)
        else:
            st.caption("none")
