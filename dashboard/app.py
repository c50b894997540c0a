"""Entry file of the analysts' dashboard: page registry and one place that turns errors into messages.

Run with `ringwatch dashboard --db PATH` (or `RINGWATCH_DB=PATH streamlit run dashboard/app.py`).
"""

from __future__ import annotations

import logging

import streamlit as st
from ringwatch.dashboard import identity
from ringwatch.dashboard.plain import plain
from ringwatch.graph.engines import EngineError
from ringwatch.ingest.errors import ContractError

log = logging.getLogger(__name__)

# Expected failures (no store, no results yet, unknown ring) become one clear message.
EXPECTED_ERRORS = (EngineError, ContractError, FileNotFoundError, KeyError, ValueError, PermissionError)

# Tracebacks in the browser would show paths and data to whoever opens the page.
st.set_option("client.showErrorDetails", "none")
st.set_page_config(page_title="ringwatch", page_icon=":material/hub:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("app_pages/rings.py", title="Rings", icon=":material/hub:", url_path="rings"),
    st.Page("app_pages/queue.py", title="Queue", icon=":material/assignment_ind:", url_path="queue"),
    st.Page("app_pages/lookup.py", title="Account lookup", icon=":material/search:", url_path="lookup"),
    st.Page("app_pages/bans.py", title="Ban list", icon=":material/block:", url_path="bans"),
    st.Page("app_pages/batches.py", title="Ban batches", icon=":material/approval:", url_path="batches"),
    st.Page("app_pages/review.py", title="Weekly review", icon=":material/event_note:", url_path="review"),
    st.Page("app_pages/audit.py", title="Audit log", icon=":material/receipt_long:", url_path="audit"),
]

if identity.login_required() and not identity.signed_in():
    st.title("ringwatch")
    st.info("This dashboard requires sign-in.")
    st.button("Sign in", key="sign_in_gate", type="primary", on_click=st.login)
    st.stop()

page = st.navigation(PAGES)
identity.sidebar()
try:
    page.run()
except EXPECTED_ERRORS as exc:
    log.warning("page %s failed: %s", page.title, exc)
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    st.error(f"{page.title}: {plain(message.splitlines()[0]) if message else type(exc).__name__}")
