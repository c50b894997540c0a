"""Links that open a ring or an account directly: ``rings?ring=ID`` and ``lookup?account=ID``.

The page keeps the URL in step with what it shows, so the address bar is always a link
another analyst can open. A link carries only the ring or account id, never who is
looking (see ``name_memory``). A link that names something the store does not hold says
so instead of quietly showing something else.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from .network_panel import new_click
from .plain import plain
from .tables import page_url

RING_PARAM, ACCOUNT_PARAM = "ring", "account"
# The id this session last put in (or took from) the URL: a different id there is a new link to follow.
_SEEN = {RING_PARAM: "_ring_in_url", ACCOUNT_PARAM: "_account_in_url"}


def _new_link(param: str) -> str | None:
    """The id the URL names, when it is not the one this session put there; None otherwise."""
    wanted = st.query_params.get(param)
    if not wanted or wanted == st.session_state.get(_SEEN[param]):
        return None
    st.session_state[_SEEN[param]] = wanted
    return wanted


def keep_in_url(param: str, value: str) -> None:
    """Show ``value`` in the address bar as ``?param=value`` (so it can be copied or reloaded)."""
    st.session_state[_SEEN[param]] = value
    if st.query_params.get(param) != value:
        st.query_params[param] = value


def drop_from_url(param: str) -> None:
    """Nothing is open: the address no longer names an id."""
    if param in st.query_params:
        del st.query_params[param]


def linked_ring(all_rings: Callable[[], pd.DataFrame]) -> str | None:
    """The ring a newly opened link names (and selects), if the last detection run holds it; warns otherwise.

    ``all_rings`` gives every scored group (``ring_list`` with benign groups), read only when a link
    needs it: a link may name one the sidebar filters hide.
    """
    wanted = _new_link(RING_PARAM)
    if wanted is None:
        return None
    if wanted not in set(all_rings()["ring_id"]):
        st.warning(f"The link names ring {plain(wanted)}, which the last detection run does not hold "
                   "(its members may have moved to another ring: search one of them in Account lookup).")
        return None
    st.session_state[RING_PARAM] = wanted
    return wanted


def ring_rows(shown: pd.DataFrame, all_rings: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``shown`` (the filtered rings), plus on top the ring a link opened when the sidebar filters hide it
    (``all_rings`` as in ``linked_ring``)."""
    linked_ring(all_rings)
    ring_id = st.session_state.get(RING_PARAM)
    if not ring_id or ring_id in set(shown["ring_id"]) or ring_id != st.query_params.get(RING_PARAM):
        return shown
    every = all_rings()
    if ring_id not in set(every["ring_id"]):
        return shown
    st.info(f"Ring {plain(ring_id)} was opened by a link; the sidebar filters hide it, so it is listed first.")
    row = every[every["ring_id"] == ring_id].reindex(columns=shown.columns)
    return pd.concat([row, shown], ignore_index=True)


def picked_ring(event, chart_key: str) -> str | None:
    """The ring id a click on the chart ``chart_key`` names (a point whose ``customdata`` is the ring id), once."""
    points = getattr(getattr(event, "selection", None), "points", None) or []
    ring = next((p.get("customdata") for p in points if isinstance(p, dict) and isinstance(p.get("customdata"), str)),
                None)
    return ring if new_click(chart_key, ring) else None


def linked_account() -> None:
    """A newly opened ``?account=`` link fills the search (by account id) before the page draws it."""
    wanted = _new_link(ACCOUNT_PARAM)
    if wanted is not None:
        st.session_state.update(query=wanted, field="account_id", account=wanted)


def share(what: str, relative: str) -> None:
    """A small button that shows the full link to ``what`` (with a copy button) for a ticket or a colleague."""
    with st.popover(f"Link to this {what}", icon=":material/link:"):
        st.caption("Opens it directly; your name is not in the link.")
        st.code(page_url(relative), language=None, wrap_lines=True)

