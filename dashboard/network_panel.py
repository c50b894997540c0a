"""Page pieces for the network views: what a click on a node does.

A chart drawn with ``on_select="rerun"`` hands back the clicked point's ``customdata``
(``network_charts``): an account opens in lookup, an identifier value lists the accounts
holding it. In a neighbourhood any node can also be expanded, one at a time. Everything
shown here goes through ``st.dataframe``, ``st.caption`` and button labels, which show
account data as text (``plain`` escapes it where Markdown would read it).
"""

from __future__ import annotations

import streamlit as st
from ringwatch.graph.reports.network import NetworkView, value_holders

from .plain import plain

LOOKUP_PAGE = "app_pages/lookup.py"
EXPANDED_KEY = "neighbourhood_expanded"


def picked(event) -> tuple | None:
    """The node a chart selection names: ``("account", id)`` or ``("value", kind, value)``, or None."""
    points = getattr(getattr(event, "selection", None), "points", None) or []
    for point in points:
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, (list, tuple)) and data and data[0] in ("account", "value"):
            return tuple(str(d) for d in data)
    return None


def open_in_lookup(account_id: str) -> None:
    """Switch to the lookup page showing this account."""
    st.session_state["query"] = account_id
    st.session_state["field"] = "account_id"
    st.session_state["account"] = account_id
    st.switch_page(LOOKUP_PAGE)


def _fresh(chart_key: str, node: tuple | None) -> bool:
    """Whether this selection is new (a rerun keeps the last one; acting on it twice would loop)."""
    handled = f"_{chart_key}_handled"
    if node is None or st.session_state.get(handled) == node:
        st.session_state[handled] = node
        return False
    st.session_state[handled] = node
    return True


def _holders_table(view: NetworkView, node: tuple, table_key: str) -> None:
    """The accounts holding a clicked value; picking a row opens that account in lookup."""
    holders = value_holders(view, node[1], node[2])
    st.caption(f"{len(holders):,} account(s) here hold {plain(node[1])} {plain(node[2])}. "
               "Pick a row to open the account in lookup.")
    table = st.dataframe(holders, hide_index=True, width="stretch", key=table_key, on_select="rerun",
                         selection_mode="single-row", height=min(36 * (len(holders) + 1) + 2, 420))
    rows = table.selection.rows if table is not None else []
    if rows and rows[0] < len(holders):
        open_in_lookup(str(holders["account_id"].iloc[rows[0]]))


def ring_clicks(view: NetworkView, event, chart_key: str) -> None:
    """A click on a ring's network: an account opens in lookup, a value lists its accounts."""
    node = picked(event)
    fresh = _fresh(chart_key, node)
    if node is None:
        st.caption("Click an account to open it in lookup, or an identifier value to list its accounts.")
    elif node[0] == "account":
        if fresh:
            open_in_lookup(node[1])
    else:
        _holders_table(view, node, f"{chart_key}_holders")


def expanded(account_id: str) -> tuple:
    """The nodes the analyst expanded in this account's neighbourhood, in order (reset for another account)."""
    state = st.session_state.get(EXPANDED_KEY)
    if not state or state[0] != account_id:
        return ()
    return tuple(state[1])


def neighbourhood_clicks(view: NetworkView, event, account_id: str, chart_key: str) -> None:
    """A click in a neighbourhood: open or expand an account, expand or list a value."""
    node = picked(event)
    done = expanded(account_id)
    if node is None:
        st.caption("Click a node to open or expand it.")
        if done:
            st.button("Collapse all expanded nodes", key="collapse_neighbourhood",
                      on_click=lambda: st.session_state.pop(EXPANDED_KEY, None))
        return
    left, right = st.columns(2)
    label = f"account {node[1]}" if node[0] == "account" else f"{node[1]} {node[2]}"
    if node not in done:
        right.button(f"Expand {plain(label)}", key="expand_node",
                     on_click=lambda: st.session_state.__setitem__(EXPANDED_KEY, (account_id, [*done, node])))
    else:
        right.caption(f"{plain(label)} is expanded.")
    if node[0] == "account":
        if node[1] != account_id and left.button(f"Open account {plain(node[1])} in lookup", key="open_node"):
            open_in_lookup(node[1])
    else:
        _holders_table(view, node, f"{chart_key}_holders")
