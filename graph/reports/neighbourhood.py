"""An account's neighbourhood that can be read: only values that carry evidence are followed.

A value links accounts only when at least two accounts hold it and the detector does not
discount it (``network.discounted_values``): single-use devices and emails, hubs, popular
client strings and free-mail domains are not drawn, so the picture shows who shares what
with whom instead of a hairball. A value held by more than ``PER_VALUE`` accounts is drawn
but not followed; the analyst can expand it, or any account, one node at a time.
"""

from __future__ import annotations

import pandas as pd

from ..engines import Engine
from .network import (
    DISCOUNTED_WORDS,
    NetworkView,
    account_node,
    account_nodes,
    account_results,
    discounted_values,
    place,
    value_node,
    value_nodes,
)
from .views import EDGE_COLUMNS

# At most this many nodes are drawn; at most this many accounts are followed through one value.
NODE_CAP = 300
PER_VALUE = 50


def _evidence(engine: Engine, account_ids) -> tuple[pd.DataFrame, int, int]:
    """The identifier rows of these accounts whose value carries evidence (kind, value, holders, account_id).

    Also returns how many of their values were discounted and how many single-use.
    """
    ids = engine.account_identifiers(sorted(set(account_ids)))[EDGE_COLUMNS]
    if ids.empty:
        return ids.assign(holders=pd.Series(dtype="int64")), 0, 0
    judged = discounted_values(engine, ids)
    ids = ids.merge(judged, on=["kind", "value"])
    single = ids["holders"] < 2
    off = ids["discounted"].astype(bool) & ~single
    return ids[~single & ~off].drop(columns="discounted"), int(off.sum()), int(single.sum())


def _holders(engine: Engine, values: pd.DataFrame, per_value: int) -> pd.DataFrame:
    if values.empty:
        return pd.DataFrame(columns=EDGE_COLUMNS)
    return engine.value_accounts(values[["kind", "value"]], per_value=per_value,
                                 limit=per_value * len(values))[EDGE_COLUMNS]


def neighbourhood_graph(engine: Engine, account_id: str, hops: int = 1, expand: tuple = (),
                        node_cap: int = NODE_CAP, per_value: int = PER_VALUE) -> NetworkView:
    """Accounts up to ``hops`` hops from ``account_id`` through evidence-carrying values, laid out.

    ``expand`` lists nodes the analyst opened one at a time, in order: ``("account", id)``
    adds that account's evidence values and their holders, ``("value", kind, value)`` the
    value's holders (up to ``per_value`` each). Accounts are coloured by ring downstream:
    the view carries each account's ring and flagged state.
    """
    holdings = pd.DataFrame(columns=EDGE_COLUMNS)
    wide = pd.DataFrame(columns=["kind", "value", "holders"])
    known = pd.DataFrame(columns=["kind", "value", "holders"])
    seen, frontier = {account_id}, {account_id}
    notices = []

    def add(rows: pd.DataFrame) -> None:
        nonlocal holdings
        holdings = pd.concat([holdings, rows[EDGE_COLUMNS]], ignore_index=True).drop_duplicates()

    def reach(accounts) -> set:
        """Draw these accounts' evidence values; follow the values not too widely held; return new accounts."""
        nonlocal wide, known
        ev, off, single = _evidence(engine, accounts)
        if accounts == {account_id} and (off or single):
            notices.append(f"Not followed from this account: {single:,} value(s) no other account holds and "
                           f"{off:,} the detector discounts ({DISCOUNTED_WORDS}).")
        add(ev)
        values = ev[["kind", "value", "holders"]].drop_duplicates()
        known = pd.concat([known, values], ignore_index=True).drop_duplicates(["kind", "value"])
        many = values["holders"] > per_value
        wide = pd.concat([wide, values[many]], ignore_index=True).drop_duplicates(["kind", "value"])
        held = _holders(engine, values[~many], per_value)
        add(held)
        return set(held["account_id"]) - seen

    for _ in range(max(1, int(hops))):
        new = reach(frontier)
        seen |= new
        frontier = new
        if not frontier or len(seen) + len(known) > node_cap:
            break
    for item in expand:
        if item[0] == "account":
            seen |= reach({item[1]}) | {item[1]}
        else:
            value = pd.DataFrame({"kind": [item[1]], "value": [item[2]]})
            held = _holders(engine, value, max(per_value, 2 * per_value))
            add(held)
            seen |= set(held["account_id"])
            wide = wide[~((wide["kind"] == item[1]) & (wide["value"] == item[2]))]
    if len(wide):
        notices.append(f"{len(wide):,} value(s) held by more than {per_value} accounts are drawn but not followed: "
                       "click one and expand it to see its accounts.")
    return _view(engine, account_id, holdings, known, node_cap, notices)


def _view(engine, account_id, holdings, known, node_cap, notices) -> NetworkView:
    # Start account's own values first, then in the order reached, until the node cap.
    own = holdings["account_id"] == account_id
    holdings = pd.concat([holdings[own], holdings[~own]], ignore_index=True)
    first_seen = pd.concat([pd.Series([account_id]), holdings["account_id"]]).drop_duplicates()
    values = holdings[["kind", "value"]].drop_duplicates()
    if len(first_seen) + len(values) > node_cap:
        keep_values = values.head(max(1, node_cap // 3))
        holdings = holdings.merge(keep_values, on=["kind", "value"])
        keep_accounts = set(pd.concat([pd.Series([account_id]), holdings["account_id"]]).drop_duplicates()
                            .head(node_cap - len(keep_values)))
        holdings = holdings[holdings["account_id"].isin(keep_accounts)]
        notices.append(f"Neighbourhood capped at {node_cap} nodes: the values reached first are kept. "
                       "Open the ring for the full picture, or expand nodes one at a time.")
    accounts = account_results(engine, set(holdings["account_id"]) | {account_id})
    members = holdings.groupby(["kind", "value"]).size().rename("members").reset_index()
    members = members.merge(known, on=["kind", "value"], how="left").assign(discounted=False)
    nodes = pd.concat([value_nodes(members.fillna({"holders": members["members"]})),
                       account_nodes(accounts, holdings)], ignore_index=True)
    edges = pd.DataFrame({"source": [account_node(a) for a in holdings["account_id"]],
                          "target": [value_node(k, v) for k, v in zip(holdings["kind"], holdings["value"])],
                          "weight": 1})
    return NetworkView(place(nodes, edges), edges, holdings.reset_index(drop=True), accounts, tuple(notices))
