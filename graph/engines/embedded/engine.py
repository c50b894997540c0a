"""The embedded engine: a DuckDB file as the store, networkit for the graph algorithms.

No server: everything runs in-process. DuckDB builds the account-pair lists (a self-join
over identifier values, bounded by the hub cap); networkit runs connected components and
Louvain with refinement (PLM) on the resulting weighted account graph.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb
import networkit as nk
import numpy as np
import pandas as pd

from .sql import (
    DEGREES_SQL,
    LEDGER_APPEND_SQL,
    LEDGER_NEXT_SQL,
    LINKS_SQL,
    MEMBER_USAGE_SQL,
    NEIGHBOUR_ACCOUNTS_SQL,
    NEIGHBOUR_IDS_SQL,
    PAIRS_SQL,
    PROMPT_SUMMARY_SQL,
    SCHEMA,
    SIMILARITY_SQL,
    USAGE_BY_GROUP_SQL,
    USAGE_SUMMARY_SQL,
    VALUE_ACCOUNTS_SQL,
    VALUE_DEGREES_SQL,
)
from ..base import Engine, EngineError, LoadResult, ledger_bodies, ledger_frame

log = logging.getLogger(__name__)

DEFAULT_DB = "ringwatch.duckdb"

ACCOUNT_COLUMNS = [
    "account_id", "created_at", "email", "email_domain", "phone", "ip", "ip_net", "device_id",
    "user_agent", "payment_id", "country", "org_id", "attributes",
]
USAGE_COLUMNS = [
    "account_id", "ts", "ip", "model", "prompt_fingerprint", "input_tokens", "output_tokens",
    "requests", "user_agent",
]
RESULT_TABLES = ("accounts", "rings", "ring_evidence", "suppressed_hubs", "runs", "lineage")


def account_columns(columns: list[str] | None) -> list[str]:
    """The account columns asked for, account_id first; refuses a name that is not an account column."""
    if columns is None:
        return list(ACCOUNT_COLUMNS)
    unknown = sorted(set(columns) - set(ACCOUNT_COLUMNS))
    if unknown:
        raise EngineError(f"unknown account columns {unknown}; account columns: {', '.join(ACCOUNT_COLUMNS)}")
    return ["account_id", *[c for c in ACCOUNT_COLUMNS[1:] if c in set(columns)]]


class EmbeddedEngine(Engine):
    """DuckDB store plus networkit algorithms, in this process."""

    name = "embedded"

    def __init__(self, db: str | os.PathLike | None = None):
        path = Path(db or os.environ.get("RINGWATCH_DB") or DEFAULT_DB)
        if path.parent and not path.parent.exists():
            raise EngineError(f"cannot open store {path}: folder {path.parent} does not exist")
        try:
            self.con = duckdb.connect(str(path))
        except duckdb.Error as exc:
            raise EngineError(f"cannot open store {path}: {exc}") from exc
        self.path = path
        # Bounded so the pair joins spill to disk instead of growing with the data.
        self.con.execute("SET memory_limit = ?", [os.environ.get("RINGWATCH_MEMORY_LIMIT", "3GB")])
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(SCHEMA)
        self._links_ready = False

    def close(self) -> None:
        self.con.close()

    # -- loading ---------------------------------------------------------------------------
    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def clear_store(self) -> int:
        total = 0
        for table in ("accounts", "identifiers", "usage", "labels", "quarantine", "loaded_files", "ledger"):
            total += self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            self.con.execute(f"DELETE FROM {table}")  # fixed table names, never input
        for name in RESULT_TABLES:
            self.con.execute(f"DROP TABLE IF EXISTS result_{name}")
        self._links_ready = False
        return int(total)

    def seen_file(self, kind: str, digest: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM loaded_files WHERE kind = ? AND digest = ?", [kind, digest]
        ).fetchall()
        return bool(row[0][0])

    def record_file(self, kind: str, digest: str, source: str, rows: int) -> None:
        self.con.execute(
            'INSERT OR IGNORE INTO loaded_files (kind, digest, source, "rows") VALUES (?, ?, ?, ?)',
            [kind, digest, source, rows],
        )

    def load_accounts(self, signups: pd.DataFrame, identifiers: pd.DataFrame) -> LoadResult:
        incoming = signups[ACCOUNT_COLUMNS]
        self.con.register("incoming", incoming)
        self.con.register("incoming_ids", identifiers[["account_id", "kind", "value"]])
        try:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE new_ids AS SELECT DISTINCT account_id FROM incoming "
                "ANTI JOIN accounts USING (account_id)"
            )
            new = self.con.execute("SELECT count(*) FROM new_ids").fetchall()[0][0]
            self.con.execute(
                "INSERT INTO accounts SELECT i.* FROM incoming i SEMI JOIN new_ids n USING (account_id)"
            )
            self.con.execute(
                "INSERT INTO identifiers SELECT DISTINCT i.account_id, i.kind, i.value "
                "FROM incoming_ids i SEMI JOIN new_ids n USING (account_id)"
            )
        finally:
            self.con.unregister("incoming")
            self.con.unregister("incoming_ids")
        self._links_ready = False
        return LoadResult(loaded=int(new), duplicates=len(incoming) - int(new))

    def load_usage(self, usage: pd.DataFrame) -> LoadResult:
        self.con.register("incoming", usage[USAGE_COLUMNS])
        try:
            self.con.execute("INSERT INTO usage SELECT * FROM incoming")
        finally:
            self.con.unregister("incoming")
        self._links_ready = False
        return LoadResult(loaded=len(usage))

    def load_labels(self, labels: pd.DataFrame) -> LoadResult:
        frame = labels[["account_id", "label", "ring_id", "attributes"]]
        self.con.register("incoming", frame)
        try:
            self.con.execute(
                "INSERT OR REPLACE INTO labels SELECT account_id, label, ring_id, attributes FROM incoming"
            )
        finally:
            self.con.unregister("incoming")
        return LoadResult(loaded=len(frame))

    def record_quarantine(self, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        frame = rows[["source", "row", "column", "value"]].copy()
        frame["reason"] = rows["reason"]
        frame["value"] = frame["value"].astype("string")
        self.con.register("incoming", frame)
        try:
            self.con.execute(
                'INSERT INTO quarantine (source, "row", "column", value, reason) '
                "SELECT source, \"row\", \"column\", value, reason FROM incoming"
            )
        finally:
            self.con.unregister("incoming")

    # -- reading ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {}
        for key, table in (
            ("accounts", "accounts"), ("identifiers", "identifiers"), ("usage_rows", "usage"),
            ("labels", "labels"), ("quarantined", "quarantine"),
        ):
            out[key] = int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        return out

    def accounts(self, account_ids: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        # Column names come only from the fixed ACCOUNT_COLUMNS list, never from input.
        picked = ", ".join(f"a.{c}" for c in account_columns(columns))
        if account_ids is None:
            return self.con.execute(f"SELECT {picked} FROM accounts a ORDER BY a.account_id").df()
        self.con.register("wanted_accounts", pd.DataFrame({"account_id": [str(a) for a in account_ids]}))
        try:
            return self.con.execute(f"SELECT {picked} FROM accounts a SEMI JOIN wanted_accounts w "
                                    "ON a.account_id = w.account_id ORDER BY a.account_id").df()
        finally:
            self.con.unregister("wanted_accounts")

    def labels(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM labels ORDER BY account_id").df()

    def usage_summary(self) -> pd.DataFrame:
        return self.con.execute(USAGE_SUMMARY_SQL).df()

    def prompt_summary(self) -> pd.DataFrame:
        return self.con.execute(PROMPT_SUMMARY_SQL).df()

    def member_usage(self, account_ids: list[str], bucket_minutes: int) -> pd.DataFrame:
        self.con.register("wanted", pd.DataFrame({"account_id": list(account_ids)}))
        try:
            return self.con.execute(MEMBER_USAGE_SQL, [bucket_minutes]).df()
        finally:
            self.con.unregister("wanted")

    def usage_by_group(self, groups: pd.DataFrame, bucket_minutes: int, origin: pd.Timestamp) -> pd.DataFrame:
        grouping = pd.DataFrame({"account_id": groups["account_id"].astype(str).to_numpy(),
                                 "grp": groups["group"].astype(str).to_numpy()}).drop_duplicates("account_id")
        self.con.register("grouping", grouping)
        try:
            frame = self.con.execute(USAGE_BY_GROUP_SQL, [int(bucket_minutes), pd.Timestamp(origin).to_pydatetime()]).df()
        finally:
            self.con.unregister("grouping")
        frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), None)
        return frame

    def account_identifiers(self, account_ids: list[str]) -> pd.DataFrame:
        self.con.register("wanted", pd.DataFrame({"account_id": list(account_ids)}))
        try:
            return self.con.execute(
                "SELECT i.* FROM identifiers i SEMI JOIN wanted w USING (account_id) "
                "ORDER BY account_id, kind, value"
            ).df()
        finally:
            self.con.unregister("wanted")

    # -- graph algorithms ------------------------------------------------------------------
    def _links(self) -> None:
        if not self._links_ready:
            self.con.execute(LINKS_SQL)
            self._links_ready = True

    def identifier_degrees(self, min_accounts: int = 2) -> pd.DataFrame:
        self._links()
        return self.con.execute(DEGREES_SQL, [min_accounts]).df()

    def identifier_kinds(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT DISTINCT kind FROM identifiers ORDER BY 1").fetchall()]

    def value_degrees(self, values: pd.DataFrame) -> pd.DataFrame:
        self._links()
        self.con.register("wanted_values", values[["kind", "value"]].drop_duplicates())
        try:
            return self.con.execute(VALUE_DEGREES_SQL).df()
        finally:
            self.con.unregister("wanted_values")

    def pair_evidence(self, *, kinds, hub_cap, pair_cap, anchors, total_accounts, min_total,
                      alone_family, alone_score, keep_pairs=None):
        self._links()
        self.con.register("kind_weights", kinds[["kind", "family", "weight"]])
        keep = keep_pairs[["a", "b"]] if keep_pairs is not None else pd.DataFrame({"a": [], "b": []}, dtype="int32")
        self.con.register("keep_pairs", keep)
        try:
            return self.con.execute(PAIRS_SQL, {
                "hub_cap": hub_cap, "pair_cap": pair_cap, "anchors": anchors,
                "total": float(max(total_accounts, 3)), "min_total": min_total,
                "alone_family": alone_family, "alone_score": alone_score,
            }).df()
        finally:
            self.con.unregister("kind_weights")
            self.con.unregister("keep_pairs")

    def node_similarity(self, *, bucket_minutes, max_degree, top_k, similarity_cutoff, degree_cutoff):
        self._links()
        return self.con.execute(SIMILARITY_SQL, {
            "max_degree": max_degree, "bucket": bucket_minutes, "degree_cutoff": degree_cutoff,
            "cutoff": similarity_cutoff, "top_k": top_k,
        }).df()

    def components(self, edges: pd.DataFrame) -> pd.DataFrame:
        ids, graph = _build_graph(edges)
        if graph is None:
            return pd.DataFrame({"account_id": [], "group": []})
        cc = nk.components.ConnectedComponents(graph)
        cc.run()
        return _groups(ids, np.asarray(cc.getPartition().getVector()))

    def communities(self, edges: pd.DataFrame, *, seed: int, resolution: float):
        ids, graph = _build_graph(edges)
        if graph is None:
            return pd.DataFrame({"account_id": [], "group": []}), 0.0
        # One thread plus a fixed seed makes PLM reproducible run to run.
        threads = nk.getMaxNumberOfThreads()
        nk.setNumberOfThreads(1)
        try:
            nk.engineering.setSeed(seed, False)
            plm = nk.community.PLM(graph, refine=True, gamma=resolution)
            plm.run()
            partition = plm.getPartition()
            modularity = nk.community.Modularity().getQuality(partition, graph)
        finally:
            nk.setNumberOfThreads(threads)
        return _groups(ids, np.asarray(partition.getVector())), float(modularity)

    # -- results ---------------------------------------------------------------------------
    def save_results(self, tables: dict[str, pd.DataFrame]) -> None:
        unknown = set(tables) - set(RESULT_TABLES)
        if unknown:
            raise EngineError(f"unknown result tables: {sorted(unknown)}")
        self.con.execute("BEGIN")
        try:
            for name, frame in tables.items():
                self.con.register("incoming", frame)
                # Table names come from the fixed RESULT_TABLES list, never from input.
                self.con.execute(f"CREATE OR REPLACE TABLE result_{name} AS SELECT * FROM incoming")
                self.con.unregister("incoming")
            self.con.execute("COMMIT")
        except duckdb.Error:
            self.con.execute("ROLLBACK")
            raise

    def results(self, name: str) -> pd.DataFrame:
        if name not in RESULT_TABLES:
            raise EngineError(f"unknown result table {name!r}")
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [f"result_{name}"]
        ).fetchall()[0][0]
        if not exists:
            raise EngineError("no detection results in this store yet: run `ringwatch detect` first")
        return self.con.execute(f"SELECT * FROM result_{name}").df()

    # -- ledgers ---------------------------------------------------------------------------
    def append_records(self, ledger: str, frame: pd.DataFrame) -> list[int]:
        self._check_ledger(ledger)
        bodies = ledger_bodies(frame)
        if not bodies:
            return []
        # One statement numbers and inserts the rows; the primary key refuses a clashing seq.
        self.con.register("incoming", pd.DataFrame({"i": range(len(bodies)), "body": bodies}))
        try:
            start = self.con.execute(LEDGER_NEXT_SQL, [ledger]).fetchall()[0][0]
            self.con.execute(LEDGER_APPEND_SQL, [ledger, start])
        finally:
            self.con.unregister("incoming")
        return list(range(int(start), int(start) + len(bodies)))

    def records(self, ledger: str) -> pd.DataFrame:
        self._check_ledger(ledger)
        rows = self.con.execute("SELECT seq, body FROM ledger WHERE ledger = ? ORDER BY seq", [ledger]).fetchall()
        return ledger_frame([r[0] for r in rows], [r[1] for r in rows])

    def value_accounts(self, values: pd.DataFrame, per_value: int = 100, limit: int = 1000) -> pd.DataFrame:
        self.con.register("wanted_values", values[["kind", "value"]].astype("str"))
        try:
            return self.con.execute(VALUE_ACCOUNTS_SQL, [int(per_value), int(limit)]).df()
        finally:
            self.con.unregister("wanted_values")

    def neighbour_edges(self, account_ids: list[str], limit: int) -> pd.DataFrame:
        self.con.register("frontier", pd.DataFrame({"account_id": list(account_ids)}))
        try:
            hop_ids = self.con.execute(NEIGHBOUR_IDS_SQL).df()
        finally:
            self.con.unregister("frontier")
        self.con.register("hop_ids", hop_ids)
        try:
            return self.con.execute(NEIGHBOUR_ACCOUNTS_SQL, [limit]).df()
        finally:
            self.con.unregister("hop_ids")


def _build_graph(edges: pd.DataFrame):
    """Weighted undirected networkit graph from (a, b, weight); ids sorted so numbering is stable."""
    if edges.empty:
        return np.array([]), None
    ends = np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy()])
    ids, inverse = np.unique(ends if ends.dtype.kind in "iu" else ends.astype(object), return_inverse=True)
    n = len(edges)
    src, dst = inverse[:n].astype(np.uint64), inverse[n:].astype(np.uint64)
    weight = edges["weight"].to_numpy(dtype=np.float64) if "weight" in edges else np.ones(n)
    graph = nk.Graph(len(ids), weighted=True, directed=False)
    graph.addEdges((weight, (src, dst)))
    return ids, graph


def _groups(ids: np.ndarray, membership: np.ndarray) -> pd.DataFrame:
    """Name each group after its smallest account id, so labels do not depend on the algorithm's numbering."""
    frame = pd.DataFrame({"account_id": ids, "raw": membership})
    frame["group"] = frame.groupby("raw")["account_id"].transform("min")
    return frame[["account_id", "group"]].sort_values(["group", "account_id"]).reset_index(drop=True)
