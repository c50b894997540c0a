"""The naive pipeline: what a competent data scientist writes with pandas and networkx.

It is the yardstick `bench/run.py` sets ringwatch's ingest and detect against, on the same
signups file. Vectorised pandas where one would use it, networkx for the graph:

1. Read the signups Parquet file; tidy the identifiers the data contract names
   (``ringwatch.ingest.identifiers.IDENTIFIER_KINDS`` that the file has: e-mail, phone, IP,
   device, payment instrument), leaving out the user agent and the organisation, which name
   a browser build and a declared workspace, shared by design; trim, lower-case e-mail,
   keep the digits of a phone number; drop rows without an account id.
2. Melt them into (account, kind, value) rows; drop values held by one account, and values
   held by more accounts than ringwatch's hub cap (``DetectionParams.hub_cap``), so both
   pipelines ignore the same hubs.
3. Self-join on the shared values: an edge between two accounts that share a value, weighted
   by the number of values they share. A value held by more accounts than ringwatch's pair
   cap (``DetectionParams.pair_cap``) links each holder to its first ``anchors`` holders
   only, as ringwatch does: with every pair of every value up to the hub cap, the
   1,000,000-account demo gives 35 million pair rows, some 23 GB as a networkx graph (at the
   0.7 KB per edge measured at 100,000 accounts), more than a 24 GB machine can spare.
4. networkx: connected components; a component larger than ringwatch's Louvain threshold
   (``DetectionParams.split_min_size``) is split by seeded Louvain
   (``networkx.community.louvain_communities``) into its communities.
5. The rule: a group (a community, or a component too small to split) of at least 3 accounts
   is flagged, all its members, when two or more of them share a payment instrument or a
   device.

It writes the flagged accounts (``account_id,group``) as CSV; `bench/run.py` scores them
against the labels as ``ringwatch evaluate`` does. Not a test: run it by hand or through
`bench/run.py`.

    python bench/naive.py data/signups.parquet flagged.csv --seed 1
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import pandas as pd
import pyarrow.parquet as pq
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.ingest.identifiers import IDENTIFIER_KINDS

# Contract columns that are shared by design, not identifiers of a person or a machine.
NOT_LINKS = ("user_agent", "org_id")
# The kinds whose sharing the flagging rule looks at: a card or a device.
RULE_KINDS = ("payment_id", "device_id")
MIN_GROUP = 3


def identifiers(path: str) -> pd.DataFrame:
    """One row per (account, kind, value) of the signups file, values tidied; nulls and repeats dropped."""
    present = set(pq.read_schema(path).names)
    kinds = [c for c in IDENTIFIER_KINDS if c in present and c not in NOT_LINKS]
    signups = pd.read_parquet(path, columns=["account_id", *kinds])
    for column in ["account_id", *kinds]:
        signups[column] = signups[column].str.strip().replace("", None)
    signups = signups.dropna(subset=["account_id"])
    if "email" in kinds:
        signups["email"] = signups["email"].str.lower()
    if "phone" in kinds:
        signups["phone"] = signups["phone"].str.replace(r"\D", "", regex=True).replace("", None)
    melted = signups.melt(id_vars="account_id", value_vars=kinds, var_name="kind").dropna()
    return melted.drop_duplicates(ignore_index=True)


def shared(ids: pd.DataFrame, hub_cap: int) -> tuple[pd.DataFrame, pd.Index]:
    """The values held by 2 to ``hub_cap`` accounts: (account, value, kind) with integer codes, and the account names."""
    held = ids.groupby(["kind", "value"])["account_id"].transform("size")
    ids = ids[(held >= 2) & (held <= hub_cap)]
    codes, names = pd.factorize(ids["account_id"])
    links = pd.DataFrame({"account": codes, "value": ids.groupby(["kind", "value"]).ngroup().to_numpy(),
                          "kind": ids["kind"].to_numpy()})
    return links, names


def edges(links: pd.DataFrame, pair_cap: int, anchors: int) -> pd.DataFrame:
    """Account pairs that share a value (a self-join on the value), weighted by how many values they share.

    A value held by more than ``pair_cap`` accounts links each holder to the value's first
    ``anchors`` holders only (in file order), as ringwatch bounds large groups: every pair of
    2,000 holders would be 2 million edges.
    """
    links = links[["value", "account"]]
    held = links.groupby("value")["account"].transform("size")
    first = links[(held <= pair_cap) | (links.groupby("value").cumcount() < anchors)]
    pairs = links.merge(first, on="value", suffixes=("", "_other"))
    pairs = pairs[pairs["account"] != pairs["account_other"]]
    low, high = pairs[["account", "account_other"]].min(axis=1), pairs[["account", "account_other"]].max(axis=1)
    pairs = pd.DataFrame({"source": low, "target": high, "value": pairs["value"]}).drop_duplicates()
    weights = pairs.groupby(["source", "target"]).size()
    return pd.DataFrame({"source": weights.index.get_level_values(0), "target": weights.index.get_level_values(1),
                         "weight": weights.to_numpy()})


def groups(pairs: pd.DataFrame, louvain_min: int, seed: int) -> pd.DataFrame:
    """(account, group): components, and Louvain communities inside components above ``louvain_min``.

    Nodes are the accounts' integer codes; Louvain gets a copy of the component (on a subgraph
    view it walks the view's filters at every step, several times slower).
    """
    graph = nx.from_pandas_edgelist(pairs, "source", "target", edge_attr="weight")
    rows = []
    for component in nx.connected_components(graph):
        parts = [component]
        if len(component) > louvain_min:
            parts = nx.community.louvain_communities(graph.subgraph(component).copy(), weight="weight", seed=seed)
        for part in parts:
            if len(part) >= MIN_GROUP:
                rows.append(pd.DataFrame({"account": sorted(part), "group": len(rows)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame({"account": [], "group": []}, dtype=int)


def flag(members: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """The members of every group in which two or more accounts share a card or a device."""
    rule = links[links["kind"].isin(RULE_KINDS)].merge(members, on="account")
    per_value = rule.groupby(["group", "value"]).size()
    hit = per_value[per_value >= 2].index.get_level_values("group").unique()
    return members[members["group"].isin(hit)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("signups", help="signups Parquet file")
    parser.add_argument("out", help="CSV file for the flagged accounts (account_id, group)")
    parser.add_argument("--seed", type=int, default=DetectionParams.seed, help="Louvain's seed")
    parser.add_argument("--hub-cap", type=int, default=DetectionParams.hub_cap)
    parser.add_argument("--pair-cap", type=int, default=DetectionParams.pair_cap,
                        help="values held by more accounts link each holder to the first --anchors holders")
    parser.add_argument("--anchors", type=int, default=DetectionParams.anchors)
    parser.add_argument("--louvain-min", type=int, default=DetectionParams.split_min_size,
                        help="components larger than this are split by Louvain")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    links, names = shared(identifiers(args.signups), args.hub_cap)
    pairs = edges(links, args.pair_cap, args.anchors)
    members = groups(pairs, args.louvain_min, args.seed)
    flagged = flag(members, links)
    pd.DataFrame({"account_id": names[flagged["account"]], "group": flagged["group"].to_numpy()}).to_csv(
        args.out, index=False)
    print(f"{len(links):,} shared identifier rows, {len(pairs):,} account pairs, {members['group'].nunique():,} "
          f"groups of {MIN_GROUP}+, {len(flagged):,} accounts flagged in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
