"""The Neo4j engine: a shared Neo4j database as the store, Graph Data Science for the algorithms.

The same primitives as the embedded engine (its SQL defines the semantics), in Cypher
(``neo4j_queries.py``) and GDS: pair evidence and lookups run as parameterised Cypher;
connected components (WCC), community detection (Leiden, seeded) and Node Similarity run in
GDS on projections built from DataFrames, each a context manager with a unique
``ringwatch_`` name that is always dropped. Writes are batched ``UNWIND $rows ... MERGE``
over uniqueness constraints, so a re-run is idempotent.

``open_engine("neo4j", db)`` ignores ``db`` (a file path for the embedded engine): the
database is the one NEO4J_DATABASE names, or the server's default.
"""

from __future__ import annotations

import io
import logging
import uuid
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from . import queries as q
from ..embedded.engine import ACCOUNT_COLUMNS, RESULT_TABLES, USAGE_COLUMNS, _groups, account_columns
from ..base import Engine, EngineError, LoadResult, ledger_bodies, ledger_frame
from .connection import CypherRunner, GdsRunner, Neo4jSettings, check_gds, connect

log = logging.getLogger(__name__)

PROJECTION_PREFIX = "ringwatch_"
# DuckDB's time_bucket counts minute buckets from this origin; the same origin keeps the
# buckets of both engines identical.
BUCKET_ORIGIN = pd.Timestamp("2000-01-03")
EPOCH = pd.Timestamp("1970-01-01")
ORIGIN_SECONDS = int((BUCKET_ORIGIN - EPOCH).total_seconds())
RESULT_CHUNK_ROWS = 50_000


class Neo4jEngine(Engine):
    """Neo4j store plus Graph Data Science algorithms, on a server."""

    name = "neo4j"

    def __init__(self, settings: Neo4jSettings | None = None, *, runner=None, gds=None):
        self.settings = settings or Neo4jSettings.from_env()
        if runner is None:
            driver = connect(self.settings)
            runner = CypherRunner(driver, self.settings.database)
            try:
                check_gds(runner, self.settings.uri)
            except EngineError:
                runner.close()
                raise
            gds = gds or GdsRunner(driver, self.settings.database)
        self.cypher = runner
        self.gds = gds
        self._numbered = False
        for statement in q.SCHEMA:
            self.cypher.run(statement)
        self._sweep_projections()

    def close(self) -> None:
        try:
            if self.gds is not None:
                self.gds.close()
        finally:
            self.cypher.close()

    def clear_store(self) -> int:
        """Delete every ringwatch node in the database (tests and fresh demos); returns how many."""
        total = 0
        while True:
            deleted = self.cypher.run(q.CLEAR_STORE, {"batch": self.settings.batch_size})[0]["deleted"]
            total += deleted
            if deleted == 0:
                break
        self._numbered = False
        return total

    def _sweep_projections(self) -> None:
        rows = self.cypher.run(q.SWEEP_PROJECTIONS, {"prefix": PROJECTION_PREFIX, "minutes": self.settings.stale_minutes})
        if rows:
            log.info("dropped %d stale graph projections", len(rows))

    # -- loading ---------------------------------------------------------------------------
    def begin(self) -> None:
        self.cypher.begin()

    def commit(self) -> None:
        self.cypher.commit()

    def rollback(self) -> None:
        self.cypher.rollback()
        self._numbered = False

    def seen_file(self, kind: str, digest: str) -> bool:
        rows = self.cypher.run(q.SEEN_FILE, {"kind": kind, "digest": digest}, read_only=True)
        return bool(rows and rows[0]["n"])

    def record_file(self, kind: str, digest: str, source: str, rows: int) -> None:
        self.cypher.run(q.RECORD_FILE, {"kind": kind, "digest": digest, "source": str(source), "rows": int(rows)})

    def _write(self, query: str, rows: list[dict], what: str, key: str = "rows") -> None:
        """Send rows in batches of the configured size, with a progress bar on a terminal."""
        size = self.settings.batch_size
        batches = range(0, len(rows), size)
        for start in tqdm(batches, desc=f"neo4j {what}", unit="batch", disable=None if len(batches) > 1 else True):
            self.cypher.run(query, {key: rows[start:start + size]})

    def load_accounts(self, signups: pd.DataFrame, identifiers: pd.DataFrame) -> LoadResult:
        incoming = signups[ACCOUNT_COLUMNS]
        ids = incoming["account_id"].drop_duplicates().astype(str).tolist()
        new: list[str] = []
        size = self.settings.batch_size
        for start in range(0, len(ids), size):
            found = self.cypher.run(q.NEW_ACCOUNT_IDS, {"ids": ids[start:start + size]}, read_only=True)
            new.extend(r["id"] for r in found)
        fresh = set(new)
        accounts = incoming[incoming["account_id"].isin(fresh)].drop_duplicates("account_id")
        self._write(q.MERGE_ACCOUNTS, _records(accounts), "accounts")
        links = identifiers[["account_id", "kind", "value"]]
        links = links[links["account_id"].isin(fresh)].drop_duplicates()
        self._write(q.MERGE_IDENTIFIERS, _records(links), "identifiers")
        self._write(q.LINK_EARLIER_USAGE, new, "usage links", key="ids")
        self._numbered = False
        return LoadResult(loaded=len(new), duplicates=len(incoming) - len(new))

    def load_usage(self, usage: pd.DataFrame) -> LoadResult:
        frame = usage[USAGE_COLUMNS].copy()
        ts = pd.to_datetime(frame["ts"])
        if ts.dt.tz is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        frame["ts"] = ts
        # Whole seconds since 1970, so buckets are integer arithmetic in Cypher.
        frame["epoch"] = (ts - EPOCH) // pd.Timedelta(seconds=1)
        self._write(q.CREATE_USAGE, _records(frame), "usage")
        links = pd.concat([
            pd.DataFrame({"account_id": frame["account_id"], "kind": "request_ip", "value": frame["ip"]}),
            pd.DataFrame({"account_id": frame["account_id"], "kind": "prompt", "value": frame["prompt_fingerprint"]}),
        ]).dropna(subset=["value"]).drop_duplicates()
        self._write(q.MERGE_USAGE_LINKS, _records(links), "usage links")
        return LoadResult(loaded=len(usage))

    def load_labels(self, labels: pd.DataFrame) -> LoadResult:
        frame = labels[["account_id", "label", "ring_id", "attributes"]]
        # The last label for an account wins, as INSERT OR REPLACE does.
        self._write(q.MERGE_LABELS, _records(frame.drop_duplicates("account_id", keep="last")), "labels")
        return LoadResult(loaded=len(frame))

    def record_quarantine(self, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        frame = rows[["source", "row", "column", "value", "reason"]].copy()
        frame["value"] = frame["value"].map(lambda v: None if _missing(v) else str(v))
        self._write(q.CREATE_QUARANTINE, _records(frame), "quarantine")

    # -- reading ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        row = self.cypher.run(q.COUNTS, read_only=True)[0]
        return {k: int(row[k]) for k in ("accounts", "identifiers", "usage_rows", "labels", "quarantined")}

    def accounts(self, account_ids: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        if account_ids is None:
            result = self.cypher.run(q.ACCOUNTS, read_only=True)
        else:
            result = self.cypher.run(q.ACCOUNTS_BY_ID, {"ids": [str(a) for a in account_ids]}, read_only=True)
        rows = [r["account"] for r in result]
        frame = pd.DataFrame(rows).reindex(columns=ACCOUNT_COLUMNS)
        frame["created_at"] = pd.to_datetime(frame["created_at"])
        # The nodes come whole; the columns are picked here.
        return frame.sort_values("account_id").reset_index(drop=True)[account_columns(columns)]

    def labels(self) -> pd.DataFrame:
        rows = self.cypher.run(q.LABELS_ALL, read_only=True)
        cols = ["account_id", "label", "ring_id", "attributes"]
        return _frame(rows, cols).sort_values("account_id").reset_index(drop=True)

    def usage_summary(self) -> pd.DataFrame:
        cols = ["account_id", "requests", "input_tokens", "output_tokens", "first_ts", "last_ts", "active_days", "prompts"]
        frame = _frame(self.cypher.run(q.USAGE_SUMMARY, read_only=True), cols)
        for col in ("first_ts", "last_ts"):
            frame[col] = pd.to_datetime(frame[col])
        return frame

    def prompt_summary(self) -> pd.DataFrame:
        return _frame(self.cypher.run(q.PROMPT_SUMMARY, read_only=True), ["prompt_fingerprint", "accounts", "requests"])

    def member_usage(self, account_ids: list[str], bucket_minutes: int) -> pd.DataFrame:
        ids = sorted(set(map(str, account_ids)))
        width = int(bucket_minutes) * 60
        rows = []
        for start in range(0, len(ids), self.settings.batch_size):
            rows += self.cypher.run(q.MEMBER_USAGE, {
                "account_ids": ids[start:start + self.settings.batch_size], "origin": ORIGIN_SECONDS, "width": width,
            }, read_only=True)
        frame = _frame(rows, ["account_id", "slot", "prompt_fingerprint", "requests", "input_tokens", "output_tokens"])
        frame.insert(1, "bucket", _bucket_start(frame.pop("slot"), width))
        return frame

    def usage_by_group(self, groups: pd.DataFrame, bucket_minutes: int, origin: pd.Timestamp) -> pd.DataFrame:
        grouping = pd.DataFrame({"account_id": groups["account_id"].astype(str).to_numpy(),
                                 "grp": groups["group"].astype(str).to_numpy()}).drop_duplicates("account_id")
        width, start = int(bucket_minutes) * 60, int((pd.Timestamp(origin) - EPOCH) // pd.Timedelta(seconds=1))
        rows = grouping.to_dict("records")
        parts = []
        for first in range(0, len(rows), self.settings.batch_size):
            parts += self.cypher.run(q.USAGE_BY_GROUP, {
                "rows": rows[first:first + self.settings.batch_size], "origin": start, "width": width,
            }, read_only=True)
        others = self.cypher.run(q.USAGE_OUTSIDE_GROUPS, {
            "account_ids": grouping["account_id"].tolist(), "origin": start, "width": width,
        }, read_only=True)
        cols = ["grp", "slot", "requests", "output_tokens", "last_ts"]
        frame = pd.concat([_frame(parts, cols), _frame(others, cols[1:]).assign(grp=None)], ignore_index=True)
        frame["last_ts"] = pd.to_datetime(frame["last_ts"])
        # Batches are disjoint in accounts, so their partial sums add up exactly.
        frame = frame.groupby(["grp", "slot"], dropna=False, sort=False).agg(
            requests=("requests", "sum"), output_tokens=("output_tokens", "sum"), last_ts=("last_ts", "max")).reset_index()
        frame.insert(1, "bucket", _bucket_start(frame.pop("slot"), width, pd.Timestamp(origin)))
        frame = frame.rename(columns={"grp": "group"}).sort_values(["group", "bucket"], na_position="last")
        frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), None)
        frame[["requests", "output_tokens"]] = frame[["requests", "output_tokens"]].astype("int64")
        return frame[["group", "bucket", "requests", "output_tokens", "last_ts"]].reset_index(drop=True)

    def account_identifiers(self, account_ids: list[str]) -> pd.DataFrame:
        ids = sorted(set(map(str, account_ids)))
        rows = []
        for start in range(0, len(ids), self.settings.batch_size):
            rows += self.cypher.run(q.ACCOUNT_IDENTIFIERS, {"account_ids": ids[start:start + self.settings.batch_size]},
                                    read_only=True)
        frame = _frame(rows, ["account_id", "kind", "value"])
        return frame.sort_values(["account_id", "kind", "value"]).reset_index(drop=True)

    # -- graph questions -------------------------------------------------------------------
    def _number_accounts(self) -> None:
        """Store each account's position in account-id order as ``idx`` (pair results use it)."""
        if self._numbered:
            return
        rows = self.cypher.run(q.ACCOUNT_NUMBERS)
        frame = _frame(rows, ["account_id", "idx"]).sort_values("account_id", kind="stable").reset_index(drop=True)
        wanted = np.arange(len(frame))
        stale = frame[pd.to_numeric(frame["idx"], errors="coerce").to_numpy(dtype=float) != wanted]
        updates = [{"account_id": a, "idx": int(i)} for a, i in zip(stale["account_id"], stale.index)]
        self._write(q.SET_ACCOUNT_NUMBERS, updates, "account numbers")
        self._numbered = True

    def identifier_degrees(self, min_accounts: int = 2) -> pd.DataFrame:
        rows = self.cypher.run(q.IDENTIFIER_DEGREES, {"min_accounts": int(min_accounts)}, read_only=True)
        return _frame(rows, ["kind", "value", "accounts"])

    def identifier_kinds(self) -> list[str]:
        return [r["kind"] for r in self.cypher.run(q.IDENTIFIER_KINDS, read_only=True)]

    def value_degrees(self, values: pd.DataFrame) -> pd.DataFrame:
        wanted = _records(values[["kind", "value"]].drop_duplicates())
        rows = []
        for start in range(0, len(wanted), self.settings.batch_size):
            rows += self.cypher.run(q.VALUE_DEGREES, {"values": wanted[start:start + self.settings.batch_size]},
                                    read_only=True)
        return _frame(rows, ["kind", "value", "accounts"])

    def pair_evidence(self, *, kinds, hub_cap, pair_cap, anchors, total_accounts, min_total,
                      alone_family, alone_score, keep_pairs=None):
        self._number_accounts()
        keep = {}
        if keep_pairs is not None and len(keep_pairs):
            keep = {f"{int(a)},{int(b)}": True for a, b in zip(keep_pairs["a"], keep_pairs["b"])}
        rows = self.cypher.run(q.PAIR_EVIDENCE, {
            "kinds": _records(kinds[["kind", "family", "weight"]]),
            "hub_cap": int(hub_cap), "pair_cap": int(pair_cap), "anchors": int(anchors),
            "total": float(max(total_accounts, 3)), "min_total": float(min_total),
            "alone_family": alone_family, "alone_score": float(alone_score), "keep": keep,
        }, read_only=True)
        frame = _frame(rows, ["a", "b", "family", "score", "shared"])
        return frame.astype({"a": "int32", "b": "int32", "score": "float64", "shared": "int64"})

    def node_similarity(self, *, bucket_minutes, max_degree, top_k, similarity_cutoff, degree_cutoff):
        self._number_accounts()
        rows = self.cypher.run(q.SIMILARITY_ACTIVITY, {
            "max_degree": int(max_degree), "origin": ORIGIN_SECONDS, "width": int(bucket_minutes) * 60,
        }, read_only=True)
        act = _frame(rows, ["idx", "fp", "slot", "weight"])
        empty = pd.DataFrame({"a": pd.Series(dtype="int32"), "b": pd.Series(dtype="int32"),
                              "similarity": pd.Series(dtype="float64"), "common": pd.Series(dtype="int64")})
        if act.empty:
            return empty
        act["idx"] = act["idx"].astype(np.int64)
        # A usage row without a time never matches another account's bucket: its own node.
        slot = act["slot"].astype("string").fillna("none:" + act["idx"].astype("string"))
        act["activity"] = pd.factorize(act["fp"].astype("string") + "\x1f" + slot)[0] + int(act["idx"].max()) + 1
        accounts = act["idx"].drop_duplicates()
        nodes = pd.concat([
            pd.DataFrame({"nodeId": accounts.to_numpy(), "labels": "Account"}),
            pd.DataFrame({"nodeId": act["activity"].drop_duplicates().to_numpy(), "labels": "Activity"}),
        ], ignore_index=True)
        rels = pd.DataFrame({"sourceNodeId": act["idx"], "targetNodeId": act["activity"],
                             "relationshipType": "ACTED", "weight": act["weight"].astype(float)})
        with self.projection("similarity", nodes, rels) as graph:
            sim = self.gds.stream(
                "node_similarity", graph, top_k=int(top_k), similarity_cutoff=max(float(similarity_cutoff), 1e-42),
                degree_cutoff=max(int(degree_cutoff), 1), relationship_weight_property="weight",
                similarity_metric="JACCARD",
            )
        if sim is None or sim.empty:
            return empty
        # The stream lists a pair from both ends (kept when in either account's top k).
        a = np.minimum(sim["node1"].to_numpy(), sim["node2"].to_numpy())
        b = np.maximum(sim["node1"].to_numpy(), sim["node2"].to_numpy())
        pairs = pd.DataFrame({"a": a, "b": b, "similarity": sim["similarity"].to_numpy(dtype=float)})
        pairs = pairs.drop_duplicates(["a", "b"])
        pairs = pairs[pairs["similarity"] >= similarity_cutoff]
        pairs["common"] = _common_activity(act, pairs)
        pairs = pairs[pairs["common"] > 0]
        out = pairs.astype({"a": "int32", "b": "int32", "common": "int64"})
        return out.sort_values(["a", "b"]).reset_index(drop=True)

    @contextmanager
    def projection(self, purpose: str, nodes: pd.DataFrame, relationships: pd.DataFrame, undirected=()):
        """A GDS graph built from DataFrames under a unique name, dropped when the block ends."""
        name = f"{PROJECTION_PREFIX}{purpose}_{uuid.uuid4().hex[:12]}"
        try:
            yield self.gds.construct(name, nodes, relationships, tuple(undirected))
        finally:
            self.gds.drop(name)

    def _edge_projection(self, purpose: str, edges: pd.DataFrame):
        """Number the edge ends (sorted ids) and project them as an undirected weighted graph."""
        ends = np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy()])
        ids, inverse = np.unique(ends if ends.dtype.kind in "iu" else ends.astype(str), return_inverse=True)
        n = len(edges)
        weight = edges["weight"].to_numpy(dtype=float) if "weight" in edges else np.ones(n)
        nodes = pd.DataFrame({"nodeId": np.arange(len(ids), dtype=np.int64), "labels": "Account"})
        rels = pd.DataFrame({"sourceNodeId": inverse[:n].astype(np.int64), "targetNodeId": inverse[n:].astype(np.int64),
                             "relationshipType": "LINK", "weight": weight})
        return ids, rels, self.projection(purpose, nodes, rels, undirected=("LINK",))

    def components(self, edges: pd.DataFrame) -> pd.DataFrame:
        if edges.empty:
            return pd.DataFrame({"account_id": [], "group": []})
        ids, _, projection = self._edge_projection("wcc", edges)
        with projection as graph:
            result = self.gds.stream("wcc", graph)
        return _groups(ids, _by_node(result, "componentId", len(ids)))

    def communities(self, edges: pd.DataFrame, *, seed: int, resolution: float):
        if edges.empty:
            return pd.DataFrame({"account_id": [], "group": []}), 0.0
        ids, rels, projection = self._edge_projection("leiden", edges)
        # Leiden takes a random seed; one thread makes the seeded run reproducible.
        with projection as graph:
            result = self.gds.stream("leiden", graph, random_seed=int(seed), gamma=float(resolution),
                                     relationship_weight_property="weight", concurrency=1)
        membership = _by_node(result, "communityId", len(ids))
        return _groups(ids, membership), modularity(rels, membership)

    # -- results ---------------------------------------------------------------------------
    def save_results(self, tables: dict[str, pd.DataFrame]) -> None:
        unknown = set(tables) - set(RESULT_TABLES)
        if unknown:
            raise EngineError(f"unknown result tables: {sorted(unknown)}")
        own = not self.cypher.in_transaction
        if own:
            self.cypher.begin()
        try:
            self.cypher.run(q.DELETE_RESULT_CHUNKS, {"tables": sorted(tables)})
            for name, frame in tables.items():
                for seq, start in enumerate(range(0, max(len(frame), 1), RESULT_CHUNK_ROWS)):
                    chunk = frame.iloc[start:start + RESULT_CHUNK_ROWS]
                    row = {"table": name, "seq": seq, "rows": len(chunk), "parquet": _to_parquet(chunk)}
                    self.cypher.run(q.MERGE_RESULT_CHUNKS, {"rows": [row]})
            if "accounts" in tables:
                self._mark_rings(tables["accounts"])
        except BaseException:
            if own:
                self.cypher.rollback()
            raise
        if own:
            self.cypher.commit()

    def _mark_rings(self, accounts: pd.DataFrame) -> None:
        """Ring membership onto the account nodes, for Neo4j Browser and Bloom."""
        self.cypher.run(q.CLEAR_RING_MARKS)
        cols = ["account_id", "ring_id", "risk_score", "flagged", "cluster_id"]
        if not set(cols) <= set(accounts.columns):
            return
        members = accounts.loc[accounts["cluster_id"].notna(), cols]
        self._write(q.MARK_RINGS, _records(members), "ring marks")

    def results(self, name: str) -> pd.DataFrame:
        if name not in RESULT_TABLES:
            raise EngineError(f"unknown result table {name!r}")
        rows = self.cypher.run(q.RESULT_CHUNKS, {"table": name}, read_only=True)
        if not rows:
            raise EngineError("no detection results in this store yet: run `ringwatch detect` first")
        frames = [pq.read_table(io.BytesIO(r["parquet"])).to_pandas() for r in rows]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    # -- ledgers ---------------------------------------------------------------------------
    def append_records(self, ledger: str, frame: pd.DataFrame) -> list[int]:
        self._check_ledger(ledger)
        bodies = ledger_bodies(frame)
        if not bodies:
            return []
        start = int(self.cypher.run(q.LEDGER_NEXT_SEQ, {"ledger": ledger})[0]["next"])
        rows = [{"seq": start + i, "body": body} for i, body in enumerate(bodies)]
        self.cypher.run(q.APPEND_LEDGER, {"ledger": ledger, "rows": rows})
        return [r["seq"] for r in rows]

    def records(self, ledger: str) -> pd.DataFrame:
        self._check_ledger(ledger)
        rows = self.cypher.run(q.LEDGER_ENTRIES, {"ledger": ledger}, read_only=True)
        return ledger_frame([r["seq"] for r in rows], [r["body"] for r in rows])

    def value_accounts(self, values: pd.DataFrame, per_value: int = 100, limit: int = 1000) -> pd.DataFrame:
        wanted = _records(values[["kind", "value"]].astype("str"))
        rows = self.cypher.run(q.VALUE_ACCOUNTS, {"values": wanted, "per_value": int(per_value), "limit": int(limit)},
                               read_only=True)
        return _frame(rows, ["account_id", "kind", "value", "holders"])

    def neighbour_edges(self, account_ids: list[str], limit: int) -> pd.DataFrame:
        rows = self.cypher.run(q.NEIGHBOURHOOD_HOP, {"frontier": list(account_ids), "limit": int(limit)},
                               read_only=True)
        return _frame(rows, ["account_id", "kind", "value"])


def modularity(rels: pd.DataFrame, membership: np.ndarray) -> float:
    """Weighted Newman modularity of a partition of an undirected graph (as networkit computes it)."""
    src, dst = rels["sourceNodeId"].to_numpy(), rels["targetNodeId"].to_numpy()
    w = rels["weight"].to_numpy(dtype=float)
    total = w.sum()
    if total <= 0:
        return 0.0
    comm_src, comm_dst = membership[src], membership[dst]
    inside = w[comm_src == comm_dst].sum()
    strength = np.bincount(np.concatenate([comm_src, comm_dst]), weights=np.concatenate([w, w]))
    return float(inside / total - ((strength / (2 * total)) ** 2).sum())


def _by_node(result: pd.DataFrame, column: str, n: int) -> np.ndarray:
    """Algorithm output (nodeId, column) as an array indexed by node id, communities renumbered 0..k-1."""
    out = np.full(n, -1, dtype=np.int64)
    out[result["nodeId"].to_numpy(dtype=np.int64)] = pd.factorize(result[column])[0]
    if (out < 0).any():
        raise EngineError("Graph Data Science returned no group for some nodes of the projection")
    return out


def _common_activity(act: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Activity nodes each pair shares (GDS streams only the similarity)."""
    if pairs.empty:
        return np.zeros(0, dtype=np.int64)
    slim = act[["idx", "activity"]]
    left = pairs[["a", "b"]].reset_index(drop=True).reset_index().merge(slim, left_on="a", right_on="idx")
    both = left.merge(slim, left_on=["b", "activity"], right_on=["idx", "activity"])
    counts = both.groupby("index").size()
    return counts.reindex(range(len(pairs)), fill_value=0).to_numpy(dtype=np.int64)


def _bucket_start(slot: pd.Series, width: int, origin: pd.Timestamp = BUCKET_ORIGIN) -> pd.Series:
    """Bucket numbers back to bucket start times."""
    seconds = pd.to_numeric(slot, errors="coerce") * width
    return origin + pd.to_timedelta(seconds, unit="s")


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (list, dict, str)) and bool(pd.isna(value)))


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values the driver sends: None for missing, datetimes for timestamps."""
    out = frame.astype(object).where(frame.notna(), None)
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            # An object Series: a plain list would be inferred back to datetime64.
            out[col] = pd.Series([None if v is None else v.to_pydatetime() for v in out[col]], index=out.index,
                                 dtype=object)
    return out.to_dict("records")


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows from Cypher as a DataFrame with these columns (also when there are none)."""
    return pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def _to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()
