"""Page pieces for the network views: what a click on a node does.

A chart drawn with ``on_select="rerun"`` hands back the clicked point's ``customdata``
(``network_charts``): an account opens in lookup, an identifier value lists the accounts
holding it. In a neighbourhood any node can also be expanded, one at a time. Everything
shown here goes through ``st.dataframe``, ``st.caption`` and button labels, which show
account data as text: a clicked value goes into ``st.code``, never into Markdown.
"""

from __future__ import annotations

from functools import partial

import streamlit as st
from ringwatch.graph.reports.network import NetworkView, value_holders

from .plain import plain

LOOKUP_PAGE = "app_pages/lookup.py"
EXPANDED_KEY = "neighbourhood_expanded"
OPEN_KEY = "_network_open_account"


def picked(event) -> tuple | None:
    """The node a chart selection names: ``("account", id)`` or ``("value", kind, value)``, or None."""
    points = getattr(getattr(event, "selection", None), "points", None) or []
    for point in points:
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, (list, tuple)) and data and data[0] in ("account", "value"):
            return tuple(str(d) for d in data)
    return None


def _focus(account_id: str) -> None:
    """Point the lookup page's widgets at this account.

    On the lookup page itself this runs as a widget callback, before the next run creates
    those widgets: its search box cannot be changed once it is drawn.
    """
    st.session_state.update({"query": account_id, "field": "account_id", "account": account_id})


def open_in_lookup(account_id: str) -> None:
    """Switch to the lookup page showing this account (from a page without lookup's widgets)."""
    _focus(account_id)
    st.switch_page(LOOKUP_PAGE)


def _focus_row(table_key: str, account_ids: list[str], switch: bool) -> None:
    """Callback of a value's accounts table: point lookup at the picked account (and switch to it next run)."""
    rows = st.session_state[table_key].selection.rows
    if rows and rows[0] < len(account_ids):
        _focus(account_ids[rows[0]])
        if switch:
            st.session_state[OPEN_KEY] = True


def new_click(chart_key: str, node) -> bool:
    """Whether this selection is new (a rerun keeps the last one; acting on it twice would loop)."""
    handled = f"_{chart_key}_handled"
    if node is None or st.session_state.get(handled) == node:
        st.session_state[handled] = node
        return False
    st.session_state[handled] = node
    return True


def _show_node(node: tuple) -> None:
    """The clicked node, as text: ``st.code`` reads no Markdown, so no value turns into a link."""
    st.caption("Selected account" if node[0] == "account" else f"Selected {plain(node[1])} value")
    st.code(node[1] if node[0] == "account" else node[2], language=None)


def _holders_table(view: NetworkView, node: tuple, table_key: str, switch: bool) -> None:
    """The accounts holding a clicked value; picking a row opens that account in lookup."""
    holders = value_holders(view, node[1], node[2])
    st.caption(f"{len(holders):,} account(s) here hold this {plain(node[1])} value. "
               "Pick a row to open the account in lookup.")
    st.dataframe(holders, hide_index=True, width="stretch", key=table_key, selection_mode="single-row",
                 on_select=partial(_focus_row, table_key, holders["account_id"].astype(str).tolist(), switch),
                 height=min(36 * (len(holders) + 1) + 2, 420))


def ring_clicks(view: NetworkView, event, chart_key: str) -> None:
    """A click on a ring's network: an account opens in lookup, a value lists its accounts."""
    if st.session_state.pop(OPEN_KEY, None):
        st.switch_page(LOOKUP_PAGE)  # a row of the value's accounts was picked
    node = picked(event)
    fresh = new_click(chart_key, node)
    if node is None:
        st.caption("Click an account to open it in lookup, or an identifier value to list its accounts.")
    elif node[0] == "account":
        if fresh:
            open_in_lookup(node[1])
    else:
        _show_node(node)
        _holders_table(view, node, f"{chart_key}_holders", switch=True)


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
    _show_node(node)
    left, right = st.columns(2)
    if node not in done:
        right.button("Expand this node", key="expand_node",
                     on_click=lambda: st.session_state.__setitem__(EXPANDED_KEY, (account_id, [*done, node])))
    else:
        right.caption("This node is expanded.")
    if node[0] == "account":
        if node[1] != account_id:
            left.button("Open this account in lookup", key="open_node", on_click=_focus, args=(node[1],))
    else:
        _holders_table(view, node, f"{chart_key}_holders", switch=False)
